/**
 * Send: one POST to an axon and its whole answer, settled at once when `signal` aborts (whatever
 * stage the exchange is in); an answer above 1 MiB is cut (`ANSWER_TOO_LARGE`).
 */
import http from 'node:http';
import { MAX_RESPONSE_BODY_BYTES } from '../protocol/decodeResponse.js';

/** Read no more than the codec would decode. */
const MAX_ANSWER_BYTES = MAX_RESPONSE_BODY_BYTES;

export type Answer = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

export function sendRequest(
  agent: http.Agent,
  host: string,
  port: number,
  path: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<Answer> {
  return new Promise((resolveAnswer, rejectAnswer) => {
    if (signal.aborted) return rejectAnswer(signal.reason);
    // Settle on the abort itself, whatever stage the exchange is in (a body stalled after its
    // headers gives no 'error' event of its own on every Node version).
    const onAbort = () => {
      req.destroy();
      rejectAnswer(signal.reason);
    };
    const resolve = (a: Answer) => {
      signal.removeEventListener('abort', onAbort);
      resolveAnswer(a);
    };
    const reject = (err: unknown) => {
      signal.removeEventListener('abort', onAbort);
      rejectAnswer(err);
    };
    const payload = Buffer.from(body, 'utf8');
    const req = http.request({ host, port, path, method: 'POST', agent, headers: { ...headers, 'content-length': String(payload.length) } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) {
          const err = new Error('answer too large') as NodeJS.ErrnoException;
          err.code = 'ANSWER_TOO_LARGE';
          res.destroy(err);
          reject(err);
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', reject);
    req.end(payload);
  });
}
