/**
 * Parse: an axon's answer as a Python dendrite records it: the fields of a 200 whose status says
 * success; otherwise the axon's own status and message; 422 for an answer that cannot be parsed.
 */
import { decodeResponse, isProtocolError, STATUS, type Coercion, type ResponseFields, type SpecOf, type SynapseName } from '../protocol/index.js';
import { failure, type DendriteResult } from './result.js';
import type { Answer } from './send.js';

export function parseAnswer<N extends SynapseName>(uid: number, synapse: N, answer: Answer, coercion: Coercion, started: number): DendriteResult<N> {
  try {
    const decoded = decodeResponse(synapse, answer.status, answer.headers as Record<string, string>, answer.body, { coercion });
    const statusCode = decoded.statusCode ?? answer.status;
    if (answer.status !== 200 || statusCode !== 200 || decoded.fields === null) {
      return failure(uid, statusCode === 200 ? answer.status : statusCode, decoded.statusMessage ?? `HTTP ${answer.status}`, started);
    }
    return {
      uid,
      ok: true,
      statusCode: 200,
      fields: decoded.fields as unknown as ResponseFields<SpecOf<N>>,
      processTimeSec: decoded.processTimeSec,
      elapsedMs: performance.now() - started,
    };
  } catch (err) {
    if (isProtocolError(err)) return failure(uid, STATUS.UNPARSEABLE, `Failed to parse response: ${err.shortMessage}`, started);
    return failure(uid, STATUS.UNPARSEABLE, 'Failed to parse response', started);
  }
}
