/**
 * Serves requests in priority order (the caller's stake) with at most `concurrency`
 * handlers running. The waiting room is bounded: when it is full, the lowest-priority
 * waiter (possibly the newcomer) is refused with `overloaded` (the axon answers 503)
 * instead of growing memory. A waiter whose deadline passes leaves with `timeout` (408).
 */
export type AdmitResult = { ok: true; release: () => void } | { ok: false; reason: 'overloaded' | 'timeout' | 'aborted' };

interface Waiter {
  priority: number;
  seq: number;
  resolve: (r: AdmitResult) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface PrioritySchedulerOptions {
  concurrency: number;
  maxQueue: number;
}

export class PriorityScheduler {
  private running = 0;
  private seq = 0;
  /** Max-heap on (priority, -seq). */
  private readonly heap: Waiter[] = [];

  constructor(private readonly options: PrioritySchedulerOptions) {}

  get queued(): number {
    return this.heap.length;
  }

  get active(): number {
    return this.running;
  }

  admit(priority: number, timeoutMs: number): Promise<AdmitResult> {
    if (this.running < this.options.concurrency && this.heap.length === 0) {
      this.running += 1;
      return Promise.resolve({ ok: true, release: this.releaser() });
    }
    return new Promise<AdmitResult>((resolve) => {
      const w: Waiter = { priority: Number.isFinite(priority) ? priority : 0, seq: this.seq++, resolve, timer: undefined };
      if (this.heap.length >= this.options.maxQueue) {
        const lowest = this.lowestIndex();
        const low = this.heap[lowest]!;
        if (!higher(w, low)) {
          resolve({ ok: false, reason: 'overloaded' });
          return;
        }
        this.removeAt(lowest);
        clearTimeout(low.timer);
        low.resolve({ ok: false, reason: 'overloaded' });
      }
      w.timer = setTimeout(
        () => {
          const i = this.heap.indexOf(w);
          if (i >= 0) {
            this.removeAt(i);
            resolve({ ok: false, reason: 'timeout' });
          }
        },
        Math.max(0, timeoutMs),
      );
      this.push(w);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.running -= 1;
      this.drain();
    };
  }

  private drain(): void {
    while (this.running < this.options.concurrency && this.heap.length > 0) {
      const w = this.pop()!;
      clearTimeout(w.timer);
      this.running += 1;
      w.resolve({ ok: true, release: this.releaser() });
    }
  }

  private lowestIndex(): number {
    // The minimum of a max-heap is among the leaves.
    let best = Math.floor(this.heap.length / 2);
    for (let i = best + 1; i < this.heap.length; i++) if (higher(this.heap[best]!, this.heap[i]!)) best = i;
    return best;
  }

  private push(w: Waiter): void {
    this.heap.push(w);
    this.up(this.heap.length - 1);
  }

  private pop(): Waiter | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (this.heap.length > 0 && last !== undefined) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private removeAt(i: number): void {
    const last = this.heap.pop()!;
    if (i === this.heap.length) return;
    this.heap[i] = last;
    this.down(i);
    this.up(i);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!higher(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && higher(h[l]!, h[m]!)) m = l;
      if (r < h.length && higher(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** Higher stake first; among equals, first come first served. */
function higher(a: Waiter, b: Waiter): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}
