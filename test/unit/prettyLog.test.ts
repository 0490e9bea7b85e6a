/**
 * src/observability/prettyLog.ts: the readable one-line-per-event format for a terminal.
 */
import { Writable } from 'node:stream';
import { expect, test } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { formatLogLine } from '../../src/observability/prettyLog.js';

const fixedTime = () => '18:42:07.123';

test('time, level, module and message first, then the fields as key=value', () => {
  const line = JSON.stringify({
    level: 30,
    time: 1,
    name: 'hs58-validator',
    module: 'validator',
    block: 1234,
    ok: true,
    failed: [],
    note: 'two words',
    msg: 'round finished',
  });
  expect(formatLogLine(line, { colors: false, formatTime: fixedTime })).toBe(
    '18:42:07.123 INFO  validator  round finished block=1234 ok=true failed=[] note="two words"',
  );
  expect(formatLogLine(JSON.stringify({ level: 50, time: 1, name: 'hs58', msg: 'x', err: { code: 'E' } }), { colors: false, formatTime: fixedTime })).toBe(
    '18:42:07.123 ERROR hs58       x err={"code":"E"}',
  );
});

test('colours on a terminal; anything that is not a JSON log line passes through', () => {
  const coloured = formatLogLine(JSON.stringify({ level: 40, time: 1, msg: 'slow', module: 'scan' }), { colors: true, formatTime: fixedTime });
  expect(coloured).toContain('\x1b[33mWARN \x1b[0m');
  expect(coloured).toContain('\x1b[1mslow\x1b[0m');
  expect(formatLogLine('plain text', { colors: true })).toBe('plain text');
  expect(formatLogLine('[1,2]', { colors: false })).toBe('[1,2]');
});

test('a pretty logger writes readable lines and still redacts secrets', async () => {
  let out = '';
  const destination = new Writable({
    write(chunk, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const log = createLogger({ level: 'info', name: 'hs58-miner', format: 'pretty', destination });
  log.child({ module: 'axon' }).info({ port: 8091, privateKey: '0xsecret' }, 'axon listening');
  log.debug('not shown');
  await new Promise((r) => setTimeout(r, 20));
  expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}axon {7}axon listening port=8091 privateKey=<redacted>\n$/);
});
