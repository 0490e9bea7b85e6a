import { errorMessage } from '../errors.js';

/** The part of a logger a close stack needs. */
interface CloseLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CloseStack {
  /** Registers a part; parts close in the reverse order of registration. */
  push(part: { name: string; close: () => Promise<void> | void }): void;
  /** Closes every part once, newest first; a part that fails is logged and the others still close. */
  closeAll(): Promise<void>;
}

/** What a daemon opened, closed in reverse order at shutdown. */
export function createCloseStack(logger: CloseLogger): CloseStack {
  const parts: { name: string; close: () => Promise<void> | void }[] = [];
  return {
    push: (part) => void parts.push(part),
    async closeAll() {
      for (let part = parts.pop(); part !== undefined; part = parts.pop()) {
        try {
          logger.debug({ part: part.name }, 'closing');
          await part.close();
        } catch (err) {
          logger.warn({ part: part.name, err: errorMessage(err) }, 'close failed');
        }
      }
    },
  };
}
