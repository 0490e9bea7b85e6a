/** A request the pipeline turns down; the server turns it into Python's error answer. */
import { notVerifiedMessage, priorityTimeoutMessage, STATUS, VERIFY_ERRORS, type RequestHead, type SynapseSpec } from '../protocol/index.js';

export class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly request?: RequestHead<SynapseSpec>,
  ) {}
}

/** 408: the request's synapse timeout passed while it waited or ran. */
export function timeoutRefusal(request: RequestHead<SynapseSpec>): Refusal {
  return new Refusal(STATUS.TIMEOUT, priorityTimeoutMessage(request.timeoutSec), request);
}

/** 401: the signature does not verify (or the caller's hotkey is no sr25519 key). */
export function mismatchRefusal(request: RequestHead<SynapseSpec>, message: string): Refusal {
  return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(VERIFY_ERRORS.signatureMismatch(message, request.signature!)), request);
}
