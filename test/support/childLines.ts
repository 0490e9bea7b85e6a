import type { ChildProcess } from 'node:child_process';

/** The lines of a child's stdout so far; `waitFor(find)` resolves with what `find` returns once it returns something. */
export function lineReader(child: ChildProcess) {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let rest = '';
  child.stdout!.on('data', (d: Buffer) => {
    rest += d.toString();
    const parts = rest.split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
    for (const w of [...waiters]) w();
  });
  return {
    lines,
    waitFor<T>(find: (lines: readonly string[]) => T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
      return new Promise((resolve, reject) => {
        const done = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
          fn();
        };
        const check = () => {
          const found = find(lines);
          if (found !== undefined) done(() => resolve(found));
        };
        const onExit = (code: number | null) =>
          done(() => reject(new Error(`${what}: the process exited (${code}) first; output:\n${lines.slice(-20).join('\n')}`)));
        const timer = setTimeout(
          () => done(() => reject(new Error(`timed out waiting for ${what}; output so far:\n${lines.slice(-20).join('\n')}`))),
          timeoutMs,
        );
        waiters.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/** A `find` for `waitFor`: the first line (from index `from`) containing `text`. */
export const lineWith =
  (text: string, from = 0) =>
  (lines: readonly string[]) =>
    lines.slice(from).find((l) => l.includes(text));

/** Resolves with the exit code once the child exited; rejects after `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs = 20_000): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}
