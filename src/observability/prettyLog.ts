import { Writable } from 'node:stream';

/**
 * Log lines for a person at a terminal: pino's JSON lines turned into one line per event,
 *
 *   18:42:07.123 INFO  validator  round finished block=1234 ok=true ms=8120
 *
 * time, level, module and message first, then the other fields as key=value (strings with spaces
 * quoted, objects as JSON), with colours when `colors` is on. Anything that is not a JSON log line
 * passes through unchanged. Elsewhere (Railway, Docker, systemd) the daemons keep writing JSON.
 * The fields were already redacted by the logger; this only formats.
 */
const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '\x1b[90m' },
  20: { name: 'DEBUG', color: '\x1b[36m' },
  30: { name: 'INFO', color: '\x1b[32m' },
  40: { name: 'WARN', color: '\x1b[33m' },
  50: { name: 'ERROR', color: '\x1b[31m' },
  60: { name: 'FATAL', color: '\x1b[35m' },
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';
/** Fields shown in the head of the line, or not at all. */
const HEAD = new Set(['level', 'time', 'msg', 'module', 'name', 'pid', 'hostname', 'v']);

export interface PrettyOptions {
  colors: boolean;
  /** Local time of day by default; tests pass a fixed formatter. */
  formatTime?: (epochMs: number) => string;
}

export function formatLogLine(line: string, options: PrettyOptions): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as { level?: unknown }).level !== 'number') return line;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const paint = (code: string, text: string) => (options.colors ? `${code}${text}${RESET}` : text);
  const level = LEVELS[entry.level as number] ?? { name: String(entry.level), color: '' };
  const time = typeof entry.time === 'number' ? (options.formatTime ?? timeOfDay)(entry.time) : '';
  const module = typeof entry.module === 'string' ? entry.module : typeof entry.name === 'string' ? entry.name : '';
  const fields = Object.entries(entry)
    .filter(([k, v]) => !HEAD.has(k) && v !== undefined)
    .map(([k, v]) => `${paint(DIM, `${k}=`)}${fieldValue(v)}`);
  const head = [paint(DIM, time), paint(level.color, level.name.padEnd(5)), paint(DIM, module.padEnd(10)), paint(BOLD, String(entry.msg ?? ''))];
  return [...head.filter((p) => p !== ''), ...fields].join(' ');
}

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}

function timeOfDay(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** A stream for pino that writes each JSON line to `out` formatted by `formatLogLine`. */
export function prettyStream(out: NodeJS.WritableStream, options: PrettyOptions): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      const text = lines
        .filter((l) => l !== '')
        .map((l) => `${formatLogLine(l, options)}\n`)
        .join('');
      if (text === '') return callback();
      out.write(text);
      callback();
    },
    final(callback) {
      if (rest !== '') out.write(`${formatLogLine(rest, options)}\n`);
      callback();
    },
  });
}
