/**
 * Sign, submit, wait, and turn every failure into a SubtensorError whose
 * `reason` is the runtime's own error name. One transaction per signer at a
 * time, so nonces never race (the auto-revealer and setWeights share a hotkey).
 */
import type { ApiPromise, SubmittableResult } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { DispatchError, EventRecord } from '@polkadot/types/interfaces';
import type { Registry } from '@polkadot/types/types';
import { errorMessage } from '../../errors.js';
import { redactText } from '../../observability/redact.js';
import { REASON_HINTS, SubtensorError } from './errors.js';
import type { TxOptions, TxReceipt } from './types.js';

export const DEFAULT_TX_TIMEOUT_MS = 120_000;

export interface DispatchErrorInfo {
  /** `SettingWeightsTooFast`, or the DispatchError kind (`BadOrigin`, `Token.FundsUnavailable`, …). */
  name: string;
  pallet?: string;
  docs?: string;
}

export function describeDispatchError(registry: Registry, error: DispatchError): DispatchErrorInfo {
  if (error.isModule) {
    try {
      const meta = registry.findMetaError(error.asModule);
      return { name: meta.name, pallet: meta.section, docs: meta.docs.join(' ').trim() };
    } catch {
      return { name: `Module(${error.asModule.index.toNumber()}, ${error.asModule.error.toHex()})` };
    }
  }
  if (error.isToken) return { name: `Token.${error.asToken.type}` };
  if (error.isArithmetic) return { name: `Arithmetic.${error.asArithmetic.type}` };
  if (error.isTransactional) return { name: `Transactional.${error.asTransactional.type}` };
  return { name: error.type };
}

export function dispatchFailure(registry: Registry, error: DispatchError, label: string): SubtensorError {
  const info = describeDispatchError(registry, error);
  const hint = REASON_HINTS[info.name] ?? info.docs;
  return new SubtensorError('TX_DISPATCH_FAILED', `${label} failed on chain: ${info.name}${hint ? ` (${hint})` : ''}`, {
    reason: info.name,
    details: { pallet: info.pallet },
  });
}

const signerLocks = new WeakMap<ApiPromise, Map<string, Promise<unknown>>>();

/** Runs `fn` after every earlier transaction of the same signer on the same connection has settled. */
export function withSignerLock<T>(api: ApiPromise, address: string, fn: () => Promise<T>): Promise<T> {
  let locks = signerLocks.get(api);
  if (!locks) {
    locks = new Map();
    signerLocks.set(api, locks);
  }
  const previous = locks.get(address) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(address, tail);
  void tail.then(() => {
    if (locks.get(address) === tail) locks.delete(address);
  });
  return run;
}

export interface SubmitOptions extends TxOptions {
  /** For messages: `setWeights`, `serveAxon`, … */
  label: string;
  /** Also fail when a `sudo.Sudid` event reports that the inner call failed (sudo itself succeeds). */
  checkSudoResult?: boolean;
}

/**
 * Signs with `signer`, submits, and resolves once the transaction is in a block or
 * finalized (per `waitFor`) and succeeded. Rejects with TX_INVALID (refused by the
 * pool), TX_NOT_INCLUDED (dropped, usurped, timed out) or TX_DISPATCH_FAILED.
 */
export function signAndWatch(api: ApiPromise, tx: SubmittableExtrinsic<'promise'>, signer: KeyringPair, options: SubmitOptions): Promise<TxReceipt> {
  return withSignerLock(api, signer.address, () => submitOnce(api, tx, signer, options));
}

function submitOnce(api: ApiPromise, tx: SubmittableExtrinsic<'promise'>, signer: KeyringPair, options: SubmitOptions): Promise<TxReceipt> {
  const waitFor = options.waitFor ?? 'finalized';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TX_TIMEOUT_MS;
  const { label, signal } = options;
  return new Promise<TxReceipt>((resolve, reject) => {
    let settled = false;
    let unsubscribe: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: Error | null, receipt?: TxReceipt) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      unsubscribe?.();
      if (err) reject(err);
      else resolve(receipt!);
    };
    const onAbort = () => finish(signal?.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(
      () =>
        finish(
          new SubtensorError(
            'TX_NOT_INCLUDED',
            `${label}: not ${waitFor === 'finalized' ? 'finalized' : 'in a block'} after ${Math.round(timeoutMs / 1000)} s (it may still land; check before resending).`,
            {
              details: { txHash: tx.hash.toHex() },
            },
          ),
        ),
      timeoutMs,
    );

    const onStatus = (result: SubmittableResult) => {
      const { status } = result;
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        return finish(
          new SubtensorError('TX_NOT_INCLUDED', `${label}: the node reports the transaction ${status.type.toLowerCase()}.`, { reason: status.type }),
        );
      }
      const done = waitFor === 'finalized' ? status.isFinalized : status.isInBlock || status.isFinalized;
      if (!done) return;
      const blockHash = (status.isFinalized ? status.asFinalized : status.asInBlock).toHex();
      const failure = extrinsicFailure(api.registry, result, label, options.checkSudoResult ?? false);
      if (failure) return finish(failure);
      api.rpc.chain
        .getHeader(blockHash)
        .then((header) =>
          finish(null, {
            txHash: result.txHash.toHex(),
            blockHash,
            blockNumber: header.number.toNumber(),
            events: result.events.map(({ event }) => `${event.section}.${event.method}`),
          }),
        )
        .catch((err: unknown) =>
          finish(
            new SubtensorError('NOT_CONNECTED', `${label}: included in ${blockHash} but its header could not be read: ${redactText(errorMessage(err))}`, {
              cause: err,
            }),
          ),
        );
    };

    tx.signAndSend(signer, { nonce: -1 }, onStatus).then(
      (unsub) => {
        if (settled) unsub();
        else unsubscribe = unsub;
      },
      (err: unknown) => finish(poolRejection(err, label)),
    );
  });
}

function extrinsicFailure(registry: Registry, result: SubmittableResult, label: string, checkSudo: boolean): SubtensorError | null {
  if (result.dispatchError) return dispatchFailure(registry, result.dispatchError, label);
  if (checkSudo) {
    for (const { event } of result.events as EventRecord[]) {
      if (event.section === 'sudo' && event.method === 'Sudid') {
        const outcome = event.data[0] as unknown as { isErr: boolean; asErr: DispatchError };
        if (outcome.isErr) return dispatchFailure(registry, outcome.asErr, label);
      }
    }
  }
  return null;
}

/**
 * Why the pool refused a transaction, from the node's error text: a substrate node says
 * `1010: Invalid Transaction: Custom error: 3`, Chopsticks `1010: {"invalid":{"custom":3}}`;
 * both give `Custom error: 3`. Custom codes are runtime-specific (spec 218: 3 = weights min stake).
 */
export function poolRejectionReason(message: string): string {
  const body = (/^\d+:\s*(.*)$/s.exec(message)?.[1] ?? message).trim();
  if (body.startsWith('{')) {
    try {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      const [kind, detail] = Object.entries(parsed)[0] ?? [];
      if (detail && typeof detail === 'object') {
        const [name, value] = Object.entries(detail as Record<string, unknown>)[0] ?? [];
        if (name === 'custom') return `Custom error: ${String(value)}`;
        if (name) return name.charAt(0).toUpperCase() + name.slice(1);
      }
      if (typeof detail === 'string') return detail.charAt(0).toUpperCase() + detail.slice(1);
      if (kind) return kind;
    } catch {
      // not JSON after all
    }
  }
  return body.replace(/^(Invalid|Unknown) Transaction:\s*/i, '').trim() || message;
}

function poolRejection(err: unknown, label: string): SubtensorError {
  const message = redactText(errorMessage(err));
  return new SubtensorError('TX_INVALID', `${label}: the node refused the transaction: ${message}`, { reason: poolRejectionReason(message), cause: err });
}
