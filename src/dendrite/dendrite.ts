import { randomUUID } from 'node:crypto';
import http from 'node:http';
import pLimit from 'p-limit';
import { timeNs } from '../axon/nonces.js';
import { startDeadline } from '../util/deadline.js';
import {
  decodeResponse,
  encodeRequest,
  isProtocolError,
  STATUS,
  type RequestFields,
  type ResponseFields,
  type SpecOf,
  type SynapseName,
} from '../protocol/index.js';

/**
 * The validator's client: signs synapses with the hotkey, sends them to many axons at once
 * (bounded by p-limit), gives each request its own timeout, and turns every failure into the
 * Python dendrite's codes: 408 (no answer in time), 503 (refused, reset, unreachable),
 * 422 (an answer that cannot be parsed); otherwise the axon's own status (401, 403, …).
 * It never throws for a miner's fault: every axon gets one `DendriteResult`.
 */
export interface DendriteSigner {
  address: string;
  sign(message: Uint8Array): Uint8Array;
}

export interface AxonEndpoint {
  uid: number;
  hotkey: string;
  ip: string;
  port: number;
}

export type DendriteResult<N extends SynapseName> =
  | { uid: number; ok: true; statusCode: 200; fields: ResponseFields<SpecOf<N>>; processTimeSec: number | null; elapsedMs: number }
  | { uid: number; ok: false; statusCode: number; message: string; elapsedMs: number };

export interface DendriteOptions {
  signer: DendriteSigner;
  /** Requests in flight at once across all axons. */
  concurrency?: number;
  /** The IP we tell axons we come from; Python sends its external IP. */
  externalIp?: string | null;
  /** Maps an on-chain axon address to where to connect (local networks serve 10.x on chain, listen on 127.0.0.1). */
  resolveAddress?: (ip: string, port: number) => { host: string; port: number };
  /** For Python-parity scoring: accept what pydantic's lax mode accepts. */
  coercion?: 'strict' | 'python';
}

export interface QueryOptions {
  timeoutSec: number;
  signal?: AbortSignal;
}

export interface Dendrite {
  readonly hotkey: string;
  call<N extends SynapseName>(axon: AxonEndpoint, synapse: N, fields: Partial<RequestFields<SpecOf<N>>>, options: QueryOptions): Promise<DendriteResult<N>>;
  query<N extends SynapseName>(axons: readonly AxonEndpoint[], synapse: N, fields: Partial<RequestFields<SpecOf<N>>>, options: QueryOptions): Promise<DendriteResult<N>[]>;
  close(): void;
}

const MAX_ANSWER_BYTES = 1024 * 1024;

export function createDendrite(options: DendriteOptions): Dendrite {
  const uuid = randomUUID();
  const limit = pLimit(options.concurrency ?? 64);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  // One dendrite instance: nonces strictly increase even when two requests start in the same ns.
  let lastNonce = 0n;
  const nextNonce = () => {
    const now = timeNs();
    lastNonce = now > lastNonce ? now : lastNonce + 1n;
    return lastNonce;
  };

  async function call<N extends SynapseName>(axon: AxonEndpoint, synapse: N, fields: Partial<RequestFields<SpecOf<N>>>, q: QueryOptions): Promise<DendriteResult<N>> {
    const started = performance.now();
    const fail = (statusCode: number, message: string): DendriteResult<N> => ({ uid: axon.uid, ok: false, statusCode, message, elapsedMs: performance.now() - started });
    let req;
    try {
      req = encodeRequest({
        synapse,
        fields,
        timeoutSec: q.timeoutSec,
        nonce: nextNonce(),
        dendrite: { hotkey: options.signer.address, uuid, ip: options.externalIp ?? null },
        axon: { hotkey: axon.hotkey, ip: axon.ip, port: axon.port },
        sign: (m) => options.signer.sign(m),
      });
    } catch (err) {
      return fail(STATUS.BAD_REQUEST, `could not encode the request: ${err instanceof Error ? err.message : String(err)}`);
    }
    const target = options.resolveAddress ? options.resolveAddress(axon.ip, axon.port) : { host: axon.ip, port: axon.port };
    // The whole exchange (connect, send, headers, body) within the synapse timeout: a peer that
    // accepts and never answers, stalls after its headers or trickles its body is cut at the deadline.
    const deadline = startDeadline(q.timeoutSec * 1000, { parent: q.signal, label: `${synapse} to uid ${axon.uid}` });
    let answer: { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
    try {
      answer = await post(agent, target.host, target.port, req.path, req.headers, req.body, deadline.signal);
    } catch (err) {
      if (q.signal?.aborted) return fail(STATUS.TIMEOUT, 'Cancelled before an answer (the caller stopped waiting)');
      if (deadline.expired) return fail(STATUS.TIMEOUT, `Timeout after ${q.timeoutSec}s`);
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'ANSWER_TOO_LARGE') return fail(STATUS.UNPARSEABLE, 'Failed to parse response: answer too large');
      return fail(STATUS.UNAVAILABLE, `Service at ${axon.ip}:${axon.port}/${synapse} unavailable${code ? ` (${code})` : ''}`);
    } finally {
      deadline.clear();
    }
    try {
      const decoded = decodeResponse(synapse, answer.status, answer.headers as Record<string, string>, answer.body, { coercion: options.coercion ?? 'strict' });
      const statusCode = decoded.statusCode ?? answer.status;
      if (answer.status !== 200 || statusCode !== 200 || decoded.fields === null) {
        return fail(statusCode === 200 ? answer.status : statusCode, decoded.statusMessage ?? `HTTP ${answer.status}`);
      }
      return {
        uid: axon.uid,
        ok: true,
        statusCode: 200,
        fields: decoded.fields as unknown as ResponseFields<SpecOf<N>>,
        processTimeSec: decoded.processTimeSec,
        elapsedMs: performance.now() - started,
      };
    } catch (err) {
      if (isProtocolError(err)) return fail(STATUS.UNPARSEABLE, `Failed to parse response: ${err.shortMessage}`);
      return fail(STATUS.UNPARSEABLE, 'Failed to parse response');
    }
  }

  return {
    hotkey: options.signer.address,
    call: (axon, synapse, fields, q) => limit(() => call(axon, synapse, fields, q)),
    query: (axons, synapse, fields, q) => Promise.all(axons.map((a) => limit(() => call(a, synapse, fields, q)))),
    close: () => {
      limit.clearQueue();
      agent.destroy();
    },
  };
}

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

function post(agent: http.Agent, host: string, port: number, path: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Answer> {
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
