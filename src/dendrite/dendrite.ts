/**
 * The validator's client: signs synapses with the hotkey, sends them to many axons at once
 * (bounded by p-limit), gives each request its own timeout, and turns every failure into the
 * Python dendrite's codes: 408 (no answer in time), 503 (refused, reset, unreachable),
 * 422 (an answer that cannot be parsed); otherwise the axon's own status (401, 403, …).
 * It never throws for a miner's fault: every axon gets one `DendriteResult`.
 *
 * Each call: sign (the protocol's `encodeRequest`), send within its deadline (send.ts), parse the
 * answer (parse.ts).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import pLimit from 'p-limit';
import { encodeRequest, STATUS, type EncodedRequest, type RequestFields, type SpecOf, type SynapseName } from '../protocol/index.js';
import { startDeadline } from '../util/deadline.js';
import { timeNs } from '../util/timeNs.js';
import { parseAnswer } from './parse.js';
import { failure, type DendriteResult } from './result.js';
import { sendRequest, type Answer } from './send.js';

export type { DendriteResult } from './result.js';

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
  query<N extends SynapseName>(
    axons: readonly AxonEndpoint[],
    synapse: N,
    fields: Partial<RequestFields<SpecOf<N>>>,
    options: QueryOptions,
  ): Promise<DendriteResult<N>[]>;
  close(): void;
}

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

  async function call<N extends SynapseName>(
    axon: AxonEndpoint,
    synapse: N,
    fields: Partial<RequestFields<SpecOf<N>>>,
    q: QueryOptions,
  ): Promise<DendriteResult<N>> {
    const started = performance.now();
    const fail = (statusCode: number, message: string): DendriteResult<N> => failure(axon.uid, statusCode, message, started);
    let req: EncodedRequest;
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
    let answer: Answer;
    try {
      answer = await sendRequest(agent, target.host, target.port, req.path, req.headers, req.body, deadline.signal);
    } catch (err) {
      if (q.signal?.aborted) return fail(STATUS.TIMEOUT, 'Cancelled before an answer (the caller stopped waiting)');
      if (deadline.expired) return fail(STATUS.TIMEOUT, `Timeout after ${q.timeoutSec}s`);
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'ANSWER_TOO_LARGE') return fail(STATUS.UNPARSEABLE, 'Failed to parse response: answer too large');
      return fail(STATUS.UNAVAILABLE, `Service at ${axon.ip}:${axon.port}/${synapse} unavailable${code ? ` (${code})` : ''}`);
    } finally {
      deadline.clear();
    }
    return parseAnswer(axon.uid, synapse, answer, options.coercion ?? 'strict', started);
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
