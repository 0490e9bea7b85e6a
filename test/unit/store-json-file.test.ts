import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { StoreError } from '../../src/store/errors.js';
import { createFileStateStore, createMemoryStateStore } from '../../src/store/jsonFile.js';

// The one atomic JSON store (validator state, pending weight commits, registry cache).

describe('the atomic JSON file store', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hs58-state-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('atomic JSON file: round trip, no temp files left, corrupt file is a typed error', async () => {
    const file = path.join(dir, 'a', 'b', 'state.json');
    const store = createFileStateStore<{ n: number; big: string }>(file);
    expect(await store.load()).toBeNull();
    await Promise.all(Array.from({ length: 20 }, (_, n) => store.save({ n, big: String(2n ** 100n) })));
    expect(await store.load()).toEqual({ n: 19, big: String(2n ** 100n) });
    expect(readdirSync(path.dirname(file))).toEqual(['state.json']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, '{"n": 1');
    await expect(store.load()).rejects.toMatchObject({ code: 'STORE_INVALID', details: { reason: 'corrupt' } });
    expect(readFileSync(file, 'utf8')).toBe('{"n": 1');
  });

  test('compact by default, indented with a final newline when pretty', async () => {
    const compact = path.join(dir, 'compact.json');
    await createFileStateStore(compact).save({ a: [1, 2] });
    expect(readFileSync(compact, 'utf8')).toBe('{"a":[1,2]}');
    const pretty = path.join(dir, 'pretty.json');
    await createFileStateStore(pretty, { pretty: true }).save({ a: [1, 2] });
    expect(readFileSync(pretty, 'utf8')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}\n');
  });

  test('a file that cannot be read or written is STORE_FAILED naming the path; a failed save does not block the next', async () => {
    const notAFolder = path.join(dir, 'plain-file');
    writeFileSync(notAFolder, 'x');
    const blocked = createFileStateStore(path.join(notAFolder, 'state.json'));
    const err = await blocked.save({ n: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining(path.join(notAFolder, 'state.json')) });
    await expect(blocked.save({ n: 2 })).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(createFileStateStore(dir).load()).rejects.toMatchObject({ code: 'STORE_FAILED' }); // a folder: EISDIR
  });
});

test('the memory store hands out copies', async () => {
  const store = createMemoryStateStore<{ list: number[] }>({ list: [1] });
  const loaded = (await store.load())!;
  loaded.list.push(2);
  expect(await store.load()).toEqual({ list: [1] });
  await store.save(loaded);
  loaded.list.push(3);
  expect(store.current()).toEqual({ list: [1, 2] });
});
