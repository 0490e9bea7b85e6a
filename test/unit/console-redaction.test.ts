/**
 * Libraries that print to the console themselves bypass our logger: @polkadot prints
 * `disconnected from ws://…/SECRETPATH?key=…` when a socket drops during a call. With the console
 * redaction the composition root installs, those lines keep the host and lose the secrets.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';
import { redactConsole } from '../../src/observability/console.js';
import { REPO_ROOT } from '../support/programs.js';

test("@polkadot's own lines about a dropped socket reach the console without the URL's secrets", () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/support/console-child.ts')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const out = `${run.stdout}\n${run.stderr}`;
  expect(run.status).toBe(0);
  // The real WsProvider printed its disconnect line (so the test sees what an operator would)...
  expect(out).toMatch(/API-WS: disconnected from ws:\/\/127\.0\.0\.1:\d+\/… 1006:: Abnormal Closure/);
  expect(out).toContain('disconnected from wss://node.example/…');
  expect(out).toContain('key 0x<redacted>');
  // ...and no secret part of it.
  expect(out).not.toMatch(/SECRET/);
  expect(out).not.toContain('ab'.repeat(32));
});

test('redactConsole puts the console back', () => {
  const seen: string[] = [];
  const fake = {
    log: (s: string) => seen.push(s),
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
    trace: () => undefined,
  } as unknown as Console;
  const restore = redactConsole(fake);
  fake.log('at %s', 'https://rpc.example/v2/APIKEY');
  restore();
  fake.log('https://rpc.example/v2/APIKEY');
  expect(seen).toEqual(['at https://rpc.example/…', 'https://rpc.example/v2/APIKEY']);
});
