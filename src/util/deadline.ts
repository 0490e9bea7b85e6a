/**
 * Deadlines that fire whatever the runtime and its garbage collector do.
 *
 * `AbortSignal.timeout(ms)` holds its timer weakly: on Node 20, inside `AbortSignal.any([...])`,
 * a garbage collection before the timeout fires loses it and the wait never ends
 * (test/unit/deadline.test.ts shows it with a forced GC). A `Deadline` owns an AbortController
 * and a plain timer that references it, so the timer keeps the signal alive until it fires or
 * is cleared. Clear it when the wait settles (`clear()` in a `finally`), so no timer outlives its wait.
 */
export interface Deadline {
  /** Aborts when the time is up (reason: a `TimeoutError` DOMException) or when the parent aborts (its reason). */
  readonly signal: AbortSignal;
  /** True when this deadline's own timer fired (not the parent). */
  readonly expired: boolean;
  /** Stops the timer and detaches from the parent; idempotent. */
  clear(): void;
}

export interface DeadlineOptions {
  /** Aborting the parent aborts this deadline's signal too (shutdown, an enclosing budget). */
  parent?: AbortSignal | null;
  /** Named in the timeout reason: "<label> timed out after N ms". */
  label?: string;
}

export function startDeadline(ms: number, options: DeadlineOptions = {}): Deadline {
  const controller = new AbortController();
  const parent = options.parent ?? null;
  let expired = false;
  let timer: NodeJS.Timeout | null = null;
  const onParent = () => {
    clear();
    controller.abort(parent!.reason);
  };
  function clear() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    parent?.removeEventListener('abort', onParent);
  }
  if (parent?.aborted) {
    controller.abort(parent.reason);
  } else {
    timer = setTimeout(
      () => {
        timer = null;
        expired = true;
        parent?.removeEventListener('abort', onParent);
        controller.abort(timeoutReason(options.label, ms));
      },
      Math.max(0, Math.min(ms, 2 ** 31 - 1)),
    );
    parent?.addEventListener('abort', onParent, { once: true });
  }
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    clear,
  };
}

/**
 * A signal that aborts when any of `signals` does, with that one's reason: `AbortSignal.any`
 * without its weak references (the parents' listeners hold it). `clear()` detaches it.
 */
export function linkSignals(signals: readonly (AbortSignal | null | undefined)[]): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const parents = signals.filter((s): s is AbortSignal => s !== null && s !== undefined);
  const clear = () => {
    for (const p of parents) p.removeEventListener('abort', onAbort);
  };
  function onAbort(this: AbortSignal) {
    clear();
    controller.abort(this.reason);
  }
  const first = parents.find((p) => p.aborted);
  if (first) controller.abort(first.reason);
  else for (const p of parents) p.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, clear };
}

/**
 * Runs `fn` with a deadline signal and settles by the deadline even when `fn` ignores its signal
 * (a library call that takes none): then it rejects with the signal's reason and `fn`'s late
 * result is dropped. The timer is cleared as soon as either side settles.
 */
export async function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>, options: DeadlineOptions = {}): Promise<T> {
  const deadline = startDeadline(ms, options);
  try {
    return await raceSignal(fn(deadline.signal), deadline.signal);
  } finally {
    deadline.clear();
  }
}

/** `p`, or a rejection with `signal.reason` as soon as `signal` aborts; the listener is removed on settle. */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(asError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => undefined);
      reject(asError(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Resolves after `ms`, or at once when `signal` aborts (no rejection: the caller checks the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function isTimeoutReason(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

function timeoutReason(label: string | undefined, ms: number): Error {
  return new DOMException(`${label ?? 'operation'} timed out after ${ms} ms`, 'TimeoutError');
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new DOMException(String(reason ?? 'aborted'), 'AbortError');
}
