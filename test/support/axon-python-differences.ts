/**
 * Where our axon may answer differently from the real Python axon (bittensor 10.5): the ONE list
 * the differential test (test/e2e/axon-python-differential.test.ts) allows, each with its reason.
 *
 * A case listed here must show exactly this pair of statuses, so that a change on either side is
 * seen; every other case of the corpus (test/support/axon-corpus.ts) must get Python's status,
 * and Python's message wherever Python's is informative. Each difference fails closed: where we
 * differ, we refuse what Python refuses with a 4xx instead of its 500, or refuse what Python
 * would let through.
 */

export const REASONS = {
  python500:
    'Python answers 500 to a client’s mistake (headers its Synapse.from_headers cannot parse, a body its pydantic model refuses: the exception escapes as "Internal Server Error #<id>"); the mistake is the client’s, so we answer 400 with what is wrong',
  contentType:
    'a body that is not application/json (by its content-type) makes FastAPI hand bytes to the bittensor model, which fails with a 500; we answer 415 Unsupported Media Type',
  duplicateHeader: 'a header given twice is refused as ambiguous (the trick of request smuggling); Python silently keeps one of the values',
  strictBody:
    'the body of a signed request is read with our types and limits (target_url ≤ 2048 characters, the probe URL); Python accepts whatever pydantic coerces. No Python dendrite sends such a body',
  bodyLimit: 'a body over 64 KiB is refused before anything else (413; Subnet 58 bodies are < 4 KiB), so no caller makes us buffer more; Python reads any size',
  headLimit: 'a request head over 16 KiB is refused by the HTTP server (431); uvicorn accepts larger heads',
  trailingSlash:
    'Starlette redirects /ProviderCheck/ to /ProviderCheck (307 to a URL built from the client’s Host header); no dendrite adds the slash, and we build no URL from a Host header: 404',
  ping: 'every Python axon also serves the bare `Synapse` (its built-in ping, with no blacklist) and lists it among its synapses; we serve only the subnet’s synapses',
  nulInPath: 'Python’s server drops the connection when the path holds an encoded NUL; we answer 404 (no such synapse)',
} as const;

export interface AllowedDifference {
  /** `group: name` of the corpus case. */
  case: string;
  /** What the Python axon answers (-1: no answer, the connection is dropped). */
  python: number;
  ours: number;
  reason: string;
}

const rows = (reason: string, python: number, ours: number, cases: readonly string[]): AllowedDifference[] =>
  cases.map((c) => ({ case: c, python, ours, reason }));

export const ALLOWED_DIFFERENCES: readonly AllowedDifference[] = [
  ...rows(REASONS.python500, 500, 400, [
    'nonce: empty',
    'nonce: not a number',
    'nonce: a float',
    'nonce: 5000 digits',
    'headers: timeout not a number',
    'headers: timeout empty',
    'headers: total_size not a number',
    'headers: header_size a float',
    'headers: dendrite port not a number',
    'headers: dendrite version not a number',
    'headers: axon status_code not a number',
    'headers: axon process_time not a number',
    'headers: a header name that contains bt_header_axon_port',
    'headers: input_obj of a field: wrong JSON type',
    'headers: input_obj of a field: null for a str field',
    'body: empty',
    'body: a JSON array',
    'body: a JSON string',
    'body: a field of the wrong type',
    'body: null for a str field',
    'body: dendrite not an object',
    'body: timeout a string',
  ]),
  ...rows(REASONS.contentType, 500, 415, ['body: not JSON, no content-type', 'body: JSON, no content-type', 'body: JSON, content-type text/plain']),
  ...rows(REASONS.duplicateHeader, 200, 400, ['nonce: given twice (the same value)']),
  ...rows(REASONS.strictBody, 200, 400, ['sizes: a 10 KB ProviderProbe target_url']),
  ...rows(REASONS.bodyLimit, 200, 413, ['sizes: a 70 KB body']),
  ...rows(REASONS.bodyLimit, 403, 413, ['sizes: a 70 KB body, unregistered caller']),
  ...rows(REASONS.headLimit, 200, 431, ['sizes: a 20 KB header']),
  ...rows(REASONS.trailingSlash, 307, 404, ['paths: /ProviderCheck/']),
  ...rows(REASONS.ping, 200, 404, ['paths: /Synapse (Python’s default ping)']),
  ...rows(REASONS.nulInPath, -1, 404, ['paths: /Provider%00Check']),
];

/**
 * A status message reduced to what both axons must agree on: values that differ per request
 * (nonces and signatures, signed anew for each axon; a message's age in seconds) are masked,
 * and Python's synapse list loses its built-in ping (REASONS.ping).
 */
export function comparableMessage(message: string): string {
  return message
    .replace(/0x[0-9a-fA-F]{128}/g, '<signature>')
    .replace(/-?\d{15,}/g, '<nonce>')
    .replace(/request was [\d.]+ seconds old/, 'request was <age> seconds old')
    .replace("Available synapses ['Synapse', ", 'Available synapses [');
}

/** Python's message says something (its 500s only carry a random error id). */
export function isInformative(message: string): boolean {
  return !/^Internal Server Error #[0-9a-f-]+$/.test(message);
}
