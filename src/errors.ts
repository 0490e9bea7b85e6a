/**
 * Coded errors. Every error this project raises on purpose is an Hs58Error with a
 * stable `code`; adapters (HTTP status, exit codes) map codes in one place.
 * `shortMessage` is safe to show a user; `details` carries context, never secrets.
 */
export interface Hs58ErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class Hs58Error<C extends string = string> extends Error {
  override name = 'Hs58Error';
  readonly code: C;
  readonly shortMessage: string;
  readonly details: Record<string, unknown>;

  constructor(code: C, shortMessage: string, options: Hs58ErrorOptions = {}) {
    super(shortMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details ?? {};
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/** The message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Hs58Error) return `${err.code}: ${err.shortMessage}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
