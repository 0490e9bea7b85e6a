/**
 * A reader for the small YAML subset of docker/prometheus.yml and the Grafana provisioning files:
 * block mappings and sequences (a `- key: value` item opens a mapping), flow sequences of scalars
 * (`["a", "b"]`), quoted and plain scalars, comments. Anything else (tabs, anchors, aliases, flow
 * mappings, block scalars, a line at an unexpected indent) is an error naming the line, so a file
 * that drifts out of the subset fails the test instead of being misread.
 */

interface Line {
  indent: number;
  text: string;
  no: number;
}

export function parseYamlSubset(source: string): unknown {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: a tab`);
    const text = stripComment(raw).trimEnd();
    if (text.trim() !== '') lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), no: i + 1 });
  });
  let pos = 0;
  const isItem = (l: Line) => l.text === '-' || l.text.startsWith('- ');

  const block = (): unknown => (isItem(lines[pos]!) ? sequence(lines[pos]!.indent) : mapping(lines[pos]!.indent));

  function sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    while (pos < lines.length && lines[pos]!.indent === indent && isItem(lines[pos]!)) {
      const line = lines[pos]!;
      const rest = line.text.slice(1).trim();
      if (/^[A-Za-z0-9_.-]+:(\s|$)/.test(rest)) {
        // `- key: value`: the item is a mapping whose keys sit two columns in.
        lines[pos] = { indent: indent + 2, text: rest, no: line.no };
        out.push(mapping(indent + 2));
      } else {
        out.push(scalar(rest, line.no));
        pos += 1;
      }
    }
    return out;
  }

  function mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (pos < lines.length && lines[pos]!.indent === indent && !isItem(lines[pos]!)) {
      const line = lines[pos]!;
      const m = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line.text);
      if (!m) throw new Error(`line ${line.no}: not "key: value": ${line.text}`);
      if (m[1]! in out) throw new Error(`line ${line.no}: ${m[1]} twice`);
      pos += 1;
      const next = lines[pos];
      if (m[2] !== undefined) out[m[1]!] = scalar(m[2], line.no);
      else if (next && (next.indent > indent || (next.indent === indent && isItem(next)))) out[m[1]!] = block();
      else out[m[1]!] = null;
    }
    const next = lines[pos];
    if (next && next.indent > indent) throw new Error(`line ${next.no}: unexpected indentation`);
    return out;
  }

  const value = lines.length === 0 ? null : block();
  if (pos < lines.length) throw new Error(`line ${lines[pos]!.no}: unexpected indentation`);
  return value;
}

function stripComment(raw: string): string {
  let quote: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || raw[i - 1] === ' ')) return raw.slice(0, i);
  }
  return raw;
}

function scalar(text: string, no: number): unknown {
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new Error(`line ${no}: an unclosed flow sequence`);
    const inner = text.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((part) => scalar(part.trim(), no));
  }
  if (/^[&*{|>!%@`]/.test(text)) throw new Error(`line ${no}: outside the YAML subset: ${text}`);
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new Error(`line ${no}: an unclosed quote`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~') return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}
