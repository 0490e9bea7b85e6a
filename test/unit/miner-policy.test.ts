/**
 * The miner's pure-ish policies: the metagraph blacklist (Python's reasons, permit and stake
 * rules, refresh on unknown callers), the registration wait and the serve loop over in-memory
 * chain ports, and /health.
 */
import { describe, expect, test } from 'vitest';
import { BLACKLIST_REASONS, buildCallerTable, createMetagraphBlacklist, judgeCaller, taoToRao } from '../../src/axon/blacklist.js';
import type { MetagraphSnapshot, ServeAxonParameters, ServeAxonResult } from '../../src/chain/subtensor/types.js';
import { SubtensorError } from '../../src/chain/subtensor/errors.js';
import { createAxonServing, publicInterfaceIpv4, waitForRegistration } from '../../src/miner/serving.js';
import { createLogger } from '../../src/observability/logger.js';
import { minerHealth } from '../../src/miner/health.js';
import { capturingLogger } from '../support/localChain.js';

const silent = createLogger({ level: 'silent' });

function snapshot(rows: Array<[hotkey: string, stakeRao: bigint, permit: boolean]>, block = 100): MetagraphSnapshot {
  return {
    block,
    hotkeys: rows.map((r) => r[0]),
    uids: rows.map((_, i) => i),
    stake: rows.map((r) => r[1]),
    validatorPermit: rows.map((r) => r[2]),
  } as unknown as MetagraphSnapshot;
}

describe('blacklist: the Python Subnet 58 miner’s rules', () => {
  const table = buildCallerTable(
    snapshot([
      ['5Val', 5_000_000_000n, true],
      ['5Miner', 0n, false],
      ['5Poor', 1n, true],
    ]),
  );
  const strict = { forceValidatorPermit: true, minStakeRao: 0n };

  test('reasons, in Python’s order', () => {
    expect(judgeCaller(table, null, strict)).toEqual({ blacklisted: true, reason: 'Missing dendrite or hotkey' });
    expect(judgeCaller(table, '', strict)).toEqual({ blacklisted: true, reason: 'Missing dendrite or hotkey' });
    expect(judgeCaller(null, '5Val', strict)).toEqual({ blacklisted: true, reason: BLACKLIST_REASONS.noMetagraph });
    expect(judgeCaller(table, '5Nobody', strict)).toEqual({ blacklisted: true, reason: 'Unrecognized hotkey' });
    expect(judgeCaller(table, '5Miner', strict)).toEqual({ blacklisted: true, reason: 'Non-validator hotkey' });
    expect(judgeCaller(table, '5Val', strict)).toMatchObject({ blacklisted: false, caller: { uid: 0, stake: 5_000_000_000n } });
  });

  test('the permit rule can be relaxed; a minimum stake applies to everyone', () => {
    const relaxed = { forceValidatorPermit: false, minStakeRao: 0n };
    expect(judgeCaller(table, '5Miner', relaxed).blacklisted).toBe(false);
    const withStake = { forceValidatorPermit: false, minStakeRao: taoToRao(1) };
    expect(judgeCaller(table, '5Poor', withStake)).toEqual({ blacklisted: true, reason: 'Insufficient stake' });
    expect(judgeCaller(table, '5Val', withStake).blacklisted).toBe(false);
    expect(judgeCaller(table, '5Miner', withStake).blacklisted).toBe(true);
  });

  test('a hotkey listed twice keeps its first uid (Python’s hotkeys.index)', () => {
    const t = buildCallerTable(
      snapshot([
        ['5Dup', 1n, false],
        ['5Dup', 9n, true],
      ]),
    );
    expect(t.byHotkey.get('5Dup')).toEqual({ uid: 0, stake: 1n, validatorPermit: false });
  });

  test('taoToRao refuses junk', () => {
    expect(taoToRao(0.5)).toBe(500_000_000n);
    expect(() => taoToRao(-1)).toThrow(RangeError);
    expect(() => taoToRao(Number.NaN)).toThrow(RangeError);
  });

  test('the live blacklist: priority is stake in TAO; an unknown caller re-reads the metagraph, at most once per interval', async () => {
    let reads = 0;
    let rows: Array<[string, bigint, boolean]> = [['5Val', 2_500_000_000n, true]];
    let now = 1_000_000;
    const bl = createMetagraphBlacklist({
      subtensor: { getMetagraph: async () => (reads++, snapshot(rows, 100 + reads)) },
      netuid: 58,
      forceValidatorPermit: true,
      minStakeRao: 0n,
      refreshMs: 3_600_000,
      unknownRefreshMs: 60_000,
      logger: silent,
      now: () => now,
    });
    expect(bl.blacklist('5Val', 'ProviderCheck')).toEqual({ blacklisted: true, reason: BLACKLIST_REASONS.noMetagraph });
    expect(await bl.refresh()).toBe(true);
    expect(reads).toBe(1);
    expect(bl.priority('5Val')).toBe(2.5);
    expect(bl.priority('5New')).toBe(0);

    rows = [...rows, ['5New', 0n, true]];
    expect(bl.blacklist('5New', 'ProviderCheck').reason).toBe('Unrecognized hotkey');
    expect(reads).toBe(1); // the read at start was less than a minute ago
    now += 61_000;
    expect(bl.blacklist('5New', 'ProviderCheck').reason).toBe('Unrecognized hotkey');
    await new Promise((r) => setTimeout(r, 0));
    expect(reads).toBe(2);
    expect(bl.blacklist('5New', 'ProviderCheck').blacklisted).toBe(false);
    expect(bl.status()).toMatchObject({ loaded: true, block: 102, n: 2, lastError: null });
  });

  test('a failed re-read keeps the last table and reports the error', async () => {
    let fail = false;
    const logs = capturingLogger();
    const bl = createMetagraphBlacklist({
      subtensor: {
        getMetagraph: async () => {
          if (fail) throw new SubtensorError('NOT_CONNECTED', 'the connection is down');
          return snapshot([['5Val', 1n, true]]);
        },
      },
      netuid: 58,
      forceValidatorPermit: true,
      minStakeRao: 0n,
      refreshMs: 10,
      logger: logs.logger,
    });
    await bl.refresh();
    fail = true;
    expect(await bl.refresh()).toBe(false);
    expect(bl.blacklist('5Val', 'ProviderCheck').blacklisted).toBe(false);
    expect(bl.status().lastError).toBe('NOT_CONNECTED: the connection is down');
    expect(logs.messages()).toContain('metagraph refresh failed; keeping the last one');
  });
});

describe('registration and serving', () => {
  test('waitForRegistration checks until the hotkey has a uid, saying what to do meanwhile', async () => {
    const answers: Array<number | null | Error> = [null, new Error('socket hang up'), null, 7];
    const logs = capturingLogger();
    const uid = await waitForRegistration({
      subtensor: {
        getUid: async () => {
          const a = answers.shift()!;
          if (a instanceof Error) throw a;
          return a;
        },
      },
      netuid: 58,
      hotkey: '5Hot',
      retryMs: 5,
      walletName: 'miner',
      walletHotkey: 'default',
      logger: logs.logger,
      signal: new AbortController().signal,
    });
    expect(uid).toBe(7);
    const warnings = logs.messages().filter((m) => m.includes('is not registered'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('btcli subnet register --netuid 58 --wallet.name miner --wallet.hotkey default');
    expect(logs.messages()).toContain('could not check the registration; retrying');
  });

  test('waitForRegistration stops when the signal aborts', async () => {
    const ac = new AbortController();
    const waiting = waitForRegistration({
      subtensor: { getUid: async () => null },
      netuid: 1,
      hotkey: 'h',
      retryMs: 60_000,
      logger: silent,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    await expect(waiting).rejects.toThrow();
  });

  test('a host name is resolved, served, re-served only when it changes; failures are retried', async () => {
    const served: ServeAxonParameters[] = [];
    let ip = '10.0.0.1';
    let failNext = true;
    const serving = createAxonServing({
      subtensor: {
        serveAxon: async (p): Promise<ServeAxonResult> => {
          if (failNext) {
            failNext = false;
            throw new SubtensorError('PRECHECK_FAILED', 'rate limited', { reason: 'ServingRateLimitExceeded' });
          }
          served.push(p);
          return {
            kind: 'served',
            axon: { ip: p.ip, port: p.port, ipType: 4, version: 1, protocol: 4, block: 1 },
            txHash: '0x',
            blockHash: '0x',
            blockNumber: 1,
            events: [],
          };
        },
      },
      netuid: 58,
      externalHost: 'miner.proxy.example',
      externalPort: 40000,
      resolveIpv4: async () => ip,
      recheckMs: 5,
      retryMs: 5,
      logger: silent,
    });
    const ac = new AbortController();
    const loop = serving.run(ac.signal);
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
    };
    await until(() => served.length === 1);
    expect(served[0]).toMatchObject({ netuid: 58, ip: '10.0.0.1', port: 40000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(served).toHaveLength(1); // same address: nothing sent
    ip = '10.0.0.2';
    await until(() => served.length === 2);
    expect(served[1]).toMatchObject({ ip: '10.0.0.2', port: 40000 });
    expect(serving.status()).toEqual({ externalHost: 'miner.proxy.example', servedIp: '10.0.0.2', port: 40000, lastError: null });
    ac.abort();
    await loop;
  });

  test('an IP literal is served once; the loop then ends', async () => {
    let calls = 0;
    const serving = createAxonServing({
      subtensor: { serveAxon: async (p) => (calls++, { kind: 'unchanged', axon: { ip: p.ip, port: p.port, ipType: 4, version: 1, protocol: 4, block: 1 } }) },
      netuid: 1,
      externalHost: '203.0.113.5',
      externalPort: 8091,
      logger: silent,
    });
    await serving.run(new AbortController().signal);
    expect(calls).toBe(1);
    expect(serving.status().servedIp).toBe('203.0.113.5');
  });

  test('publicInterfaceIpv4 takes the first public IPv4, never a private or internal one', () => {
    const iface = (address: string, internal = false, family: 'IPv4' | 'IPv6' = 'IPv4') =>
      ({ address, internal, family, netmask: '', mac: '', cidr: null }) as never;
    expect(publicInterfaceIpv4({ lo: [iface('127.0.0.1', true)], eth0: [iface('10.1.2.3'), iface('fe80::1', false, 'IPv6')] })).toBeNull();
    expect(publicInterfaceIpv4({ eth0: [iface('172.20.0.2'), iface('100.64.1.1')], eth1: [iface('203.0.113.9')] })).toBe('203.0.113.9');
  });
});

describe('/health', () => {
  const axon = (listening: boolean) => ({ stats: () => ({ listening, queued: 0, active: 0, verifyThreads: 2, answered: 3 }) }) as never;
  test('down before the axon listens, degraded on a failing part, ok otherwise', () => {
    expect(minerHealth({ axon: null, blacklist: null, serving: null, subtensor: { state: 'connected' }, phase: 'waiting for registration' })).toMatchObject({
      status: 'down',
      parts: { axon: { ok: false, detail: 'waiting for registration' } },
    });
    const blacklist = (lastError: string | null) => ({ status: () => ({ loaded: true, block: 5, n: 3, ageMs: 1000, lastError }) }) as never;
    expect(minerHealth({ axon: axon(true), blacklist: blacklist(null), serving: null, subtensor: { state: 'connected' }, phase: 'serving' }).status).toBe('ok');
    expect(minerHealth({ axon: axon(true), blacklist: blacklist('down'), serving: null, subtensor: { state: 'connected' }, phase: 'serving' }).status).toBe(
      'degraded',
    );
    expect(minerHealth({ axon: axon(true), blacklist: blacklist(null), serving: null, subtensor: { state: 'reconnecting' }, phase: 'serving' }).status).toBe(
      'degraded',
    );
  });
});
