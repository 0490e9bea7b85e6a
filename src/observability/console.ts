import { format } from 'node:util';
import { redactText } from './redact.js';

/**
 * Libraries that print to the console themselves (@polkadot's logger prints
 * `disconnected from ws://…/SECRET?key=…` when a socket drops mid-call) bypass our redacting
 * logger. `redactConsole` routes every console method through `redactText`, so no URL with
 * credentials and no 32-byte hex secret reaches stdout or stderr from them either. Process-wide:
 * only a composition root calls it; it returns the function that puts the console back.
 */
const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export function redactConsole(target: Console = console): () => void {
  const original = new Map(METHODS.map((m) => [m, target[m]] as const));
  for (const m of METHODS) {
    const write = original.get(m)!;
    target[m] = (...args: unknown[]) => write.call(target, redactText(format(...args)));
  }
  return () => {
    for (const m of METHODS) target[m] = original.get(m)!;
  };
}
