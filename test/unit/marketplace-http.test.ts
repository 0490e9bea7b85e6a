/** What the Handshake58 API calls share (src/marketplace/http.ts): capped body reads, endpoint URLs, fetch errors without secrets. */
import { describe, expect, test } from 'vitest';
import { describeFetchError, joinUrl, readCapped } from '../../src/marketplace/http.js';

/** A response whose body comes in `chunks` pieces of `size` bytes; counts the pieces pulled. */
function chunked(chunks: number, size: number) {
  let pulled = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled === chunks) return controller.close();
        pulled += 1;
        controller.enqueue(new Uint8Array(size).fill(0x61));
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { res: new Response(body), pulled: () => pulled, cancelled: () => cancelled };
}

describe('readCapped', () => {
  test('a body up to the cap is read whole', async () => {
    expect(await readCapped(chunked(3, 1000).res, 3000)).toEqual({ text: 'a'.repeat(3000), complete: true });
    expect(await readCapped(new Response(null), 10)).toEqual({ text: '', complete: true });
  });

  test('a larger body: the first maxBytes, complete false, and the rest is neither read nor buffered', async () => {
    const body = chunked(1000, 1000);
    const r = await readCapped(body.res, 2500);
    expect(r).toEqual({ text: 'a'.repeat(2500), complete: false });
    expect(body.pulled()).toBe(3);
    expect(body.cancelled()).toBe(true);
  });
});

describe('joinUrl', () => {
  test('keeps a path prefix of the base, ignores trailing slashes, refuses what is not http(s)', () => {
    expect(joinUrl('https://www.handshake58.com', '/api/validator/probe-alert')).toBe('https://www.handshake58.com/api/validator/probe-alert');
    expect(joinUrl('http://127.0.0.1:9/prefix//', '/api/directory/providers')).toBe('http://127.0.0.1:9/prefix/api/directory/providers');
    expect(() => joinUrl('ftp://x/y', '/a')).toThrow();
    expect(() => joinUrl('not a url', '/a')).toThrow();
  });
});

describe('describeFetchError', () => {
  test("names the socket error in fetch's cause, without the secret parts of a URL in it", () => {
    const err = new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND https://rpc.example/v2/SECRETKEY') });
    expect(describeFetchError(err)).toBe('fetch failed (getaddrinfo ENOTFOUND https://rpc.example/…)');
    expect(describeFetchError(new Error('plain'))).toBe('plain');
  });

  test("redacts a URL in fetch's own message (a URL with credentials, which fetch refuses to send)", async () => {
    const err = await fetch('http://alice:s3cret@127.0.0.1:9/providers').catch((e: unknown) => e);
    const text = describeFetchError(err);
    expect(text).toContain('127.0.0.1');
    expect(text).not.toMatch(/alice|s3cret/);
  });
});
