/**
 * The monitoring box of docker/ (static: no Docker engine here). Each Grafana dashboard parses and has
 * the shape Grafana 12 provisions (panels with positions, targets with PromQL, the Prometheus data source
 * variable); every metric its PromQL reads is one its daemon exports (the real metrics factory, with
 * the default process metrics), and every hs58_* metric of the daemon is on its dashboard. The Prometheus
 * scrape config reaches both daemons' /metrics on their ops port; the Grafana provisioning points at the
 * Prometheus service and the folder the dashboards are mounted in; compose mounts only files that exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { OPTIONS } from '../../src/config/schema.js';
import { createMinerMetrics, createValidatorMetrics } from '../../src/observability/metrics.js';
import { REPO_ROOT } from '../support/programs.js';
import { parseYamlSubset } from '../support/yamlSubset.js';

const DOCKER = path.join(REPO_ROOT, 'docker');
const read = (rel: string) => readFileSync(path.join(DOCKER, rel), 'utf8');

/** Series Prometheus adds to every target itself; not exported by the daemons. */
const SCRAPE_SERIES = new Set(['up']);
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression reads: not functions, aggregations, label names, keywords or numbers. */
function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names: string[] = [];
  // A number or duration (0.95, 1e3, 5m) is one token, so its letters are not taken for a name.
  for (const m of bare.matchAll(/\d[\w.]*|[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const token = m[0];
    if (/^\d/.test(token) || PROMQL_WORDS.has(token.toLowerCase())) continue;
    if (
      bare
        .slice(m.index + token.length)
        .trimStart()
        .startsWith('(')
    )
      continue; // a function or an aggregation
    names.push(token);
  }
  return names;
}

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

const DASHBOARDS = {
  validator: { file: 'grafana/dashboards/hs58-validator.json', metrics: () => createValidatorMetrics({ processMetrics: true }) },
  miner: { file: 'grafana/dashboards/hs58-miner.json', metrics: () => createMinerMetrics({ processMetrics: true }) },
} as const;

/** Every series name a registry exports (a histogram's _bucket, _sum and _count). */
async function exported(registry: ReturnType<typeof createValidatorMetrics>['registry']): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    const type = String(m.type);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m.name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${m.name}${suffix}`);
  }
  return names;
}

/** The PromQL of a dashboard: its panels' targets and its query variables (`label_values(metric, label)`). */
function queries(d: Dashboard): string[] {
  const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of d.templating.list.filter((x) => x.type === 'query')) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
    const m = /^label_values\(\s*([^,]+),\s*\w+\s*\)$/.exec(q);
    if (!m) throw new Error(`variable ${v.name}: not label_values(metric, label): ${q}`);
    exprs.push(m[1]!);
  }
  return exprs;
}

describe('the PromQL reader of this test', () => {
  test('finds metric names inside functions, aggregations and histogram_quantile; skips labels, keywords, numbers and variables', () => {
    expect(promqlMetricNames('histogram_quantile(0.95, sum by (step, le) (rate(hs58_x_seconds_bucket{instance=~"$instance"}[$__rate_interval])))')).toEqual([
      'hs58_x_seconds_bucket',
    ]);
    expect(promqlMetricNames('time() - max by (event) (a_timestamp{event="set"}) > 1e3 and on (instance) b_total offset 5m')).toEqual([
      'a_timestamp',
      'b_total',
    ]);
    expect(promqlMetricNames('sum(increase(a_sum[3h])) / sum without (x) (increase(a_count[3h]))')).toEqual(['a_sum', 'a_count']);
  });
});

describe.each(Object.entries(DASHBOARDS))('the %s dashboard', (daemon, { file, metrics }) => {
  const dashboard = JSON.parse(read(file)) as Dashboard;

  test('has the shape Grafana provisions: uid, panels on the 24-column grid, Prometheus targets through the data source variable', () => {
    expect(dashboard).toMatchObject({ uid: `hs58-${daemon}`, title: `hs58 ${daemon}`, schemaVersion: expect.any(Number), panels: expect.any(Array) });
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([
      ['datasource', 'datasource'],
      ['instance', 'query'],
    ]);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThan(8);
    for (const p of dashboard.panels) {
      expect(['row', 'timeseries', 'stat'], p.title).toContain(p.type);
      expect(p.title, `panel ${p.id}`).toMatch(/\S/);
      const { h, w, x, y } = p.gridPos;
      expect([h, w, x, y].every((n) => Number.isInteger(n) && n >= 0) && x + w <= 24 && h > 0 && w > 0, p.title).toBe(true);
    }
    for (const p of graphs) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets!.length, p.title).toBeGreaterThan(0);
      expect(new Set(p.targets!.map((t) => t.refId)).size, p.title).toBe(p.targets!.length);
      for (const t of p.targets!) {
        expect(t.datasource, p.title).toEqual(p.datasource);
        expect(t.expr, p.title).toContain('instance=~"$instance"');
        // Balanced brackets: a typo would show as an error panel.
        for (const [open, close] of ['()', '{}', '[]']) expect(t.expr.split(open!).length, `${p.title}: ${t.expr}`).toBe(t.expr.split(close!).length);
      }
    }
  });

  test(`every metric it queries is one the ${daemon} exports, and every hs58_* metric of the ${daemon} is on it`, async () => {
    const names = await exported(metrics().registry);
    const read = new Set(queries(dashboard).flatMap(promqlMetricNames));
    expect([...read].filter((n) => !names.has(n) && !SCRAPE_SERIES.has(n))).toEqual([]);
    const own = [...names].filter((n) => n.startsWith('hs58_'));
    const shown = (n: string) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`].some((s) => read.has(s));
    expect(
      (await metrics().registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('hs58_') && !shown(n)),
      'hs58_* metrics missing from the dashboard',
    ).toEqual([]);
    expect(own.length).toBeGreaterThan(5);
    // The process: memory, event-loop lag, GC, CPU.
    for (const n of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_gc_duration_seconds_sum', 'process_cpu_seconds_total']) {
      expect(read, n).toContain(n);
    }
  });
});

describe('Prometheus, Grafana provisioning and compose', () => {
  const compose = read('compose.yml');
  /** The text of one service of compose.yml (its block under `services:`). */
  const service = (name: string) => {
    const m = new RegExp(`^ {2}${name}:\\n((?: {4}.*\\n|\\s*\\n)+)`, 'm').exec(compose);
    if (!m) throw new Error(`no service ${name} in compose.yml`);
    return m[1]!;
  };

  test("prometheus.yml scrapes the validator's and the miner's /metrics on their ops port", () => {
    const config = parseYamlSubset(read('prometheus.yml')) as {
      global: { scrape_interval: string };
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    expect(config.global.scrape_interval).toMatch(/^\d+s$/);
    const port = OPTIONS['metrics.port'].default;
    expect(port).toBe(9100);
    const jobs = new Map(config.scrape_configs.map((j) => [j.job_name, j]));
    expect([...jobs.keys()]).toEqual(['hs58-validator', 'hs58-miner']);
    for (const daemon of ['validator', 'miner']) {
      const job = jobs.get(`hs58-${daemon}`)!;
      expect(job.metrics_path).toBe('/metrics');
      expect(job.static_configs.flatMap((s) => s.targets)).toEqual([`${daemon}:${port}`]);
      // The compose service of that name leaves METRICS_PORT at its default and METRICS_HOST open to the network.
      expect(service(daemon)).not.toMatch(/^\s+METRICS_(PORT|HOST):/m);
      expect(service(daemon)).toContain(`:${port}"`);
      expect(service(daemon)).toMatch(/NEURON_TYPE: (validator|miner)/);
    }
  });

  test('Grafana gets Prometheus as its data source and the dashboards folder; compose mounts files that exist, images pinned', () => {
    const sources = parseYamlSubset(read('grafana/provisioning/datasources/prometheus.yml')) as {
      apiVersion: number;
      datasources: { type: string; url: string; isDefault: boolean }[];
    };
    expect(sources.apiVersion).toBe(1);
    expect(sources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
    const providers = parseYamlSubset(read('grafana/provisioning/dashboards/hs58.yml')) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(providers.providers).toHaveLength(1);
    const { path: dashboardsPath } = providers.providers[0]!.options;

    const grafana = service('grafana');
    const prometheus = service('prometheus');
    expect(prometheus).toMatch(/image: prom\/prometheus:v\d+\.\d+\.\d+\n/);
    expect(grafana).toMatch(/image: grafana\/grafana:\d+\.\d+\.\d+\n/);
    for (const s of [grafana, prometheus]) expect(s).toContain('profiles: ["monitoring"]');
    expect(prometheus).toContain('- ./prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(prometheus).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(grafana).toContain('- ./grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(grafana).toContain(`- ./grafana/dashboards:${dashboardsPath}:ro`);
    const home = /GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: (\S+)/.exec(grafana)![1]!;
    expect(path.posix.dirname(home)).toBe(dashboardsPath);
    expect(existsSync(path.join(DOCKER, 'grafana/dashboards', path.posix.basename(home)))).toBe(true);
    // Every bind mount of compose.yml is a file or folder of docker/.
    const binds = [...compose.matchAll(/^\s+- (\.\/[^:]+):/gm)].map((m) => m[1]!);
    expect(binds.length).toBeGreaterThanOrEqual(3);
    for (const b of binds) expect(existsSync(path.join(DOCKER, b)), b).toBe(true);
    // One dashboard per daemon, nothing else in the folder.
    expect(readdirSync(path.join(DOCKER, 'grafana/dashboards')).sort()).toEqual(['hs58-miner.json', 'hs58-validator.json']);
  });
});
