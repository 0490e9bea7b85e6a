import { PolygonError } from './errors.js';
import { normalizeAddress, type ChannelClaim } from './getLogs.js';
import { addRange, blockCount, clipAbove, clipBelow, gapsIn, isNormalized, type BlockRange } from './ranges.js';

/**
 * The scanner's memory: the claims seen (deduplicated by transaction hash and log index) and
 * the block ranges fetched completely. Claims and coverage change together in `addRange`, so a
 * saved state never says "covered" without the claims of that range, and a reloaded state
 * never counts a claim twice. `ClaimsWindow` is the port; `ClaimsStore` here keeps it in
 * memory (pure: no I/O; JSON-safe through toJSON/fromJSON, bigints as decimal strings), and
 * `ClaimsDatabase` (claimsDatabase.ts) in SQLite.
 */

export interface ProviderClaims {
  /** Sum of ChannelClaimed amounts, USDC base units (6 decimals). */
  amount: bigint;
  claims: number;
  /** Distinct channels (contract + channelId) the provider claimed from. */
  channels: number;
}

export interface ProviderClaimsJSON {
  amount: string;
  /** `amount` as a USDC decimal, for people. */
  usdc: string;
  claims: number;
  channels: number;
}

/** Totals of a round that covered its whole window. */
export interface ClaimsSnapshot {
  window: BlockRange;
  providers: Map<string, ProviderClaims>;
  completedAt: number;
}

export interface ClaimJSON {
  contract: string;
  channelId: string;
  provider: string;
  amount: string;
  block: number;
  tx: string;
  logIndex: number;
}

export interface ClaimsStateJSON {
  version: 1;
  chainId: number | null;
  contracts: string[];
  covered: [number, number][];
  claims: ClaimJSON[];
  lastComplete: { from: number; to: number; completedAt: number; providers: Record<string, ProviderClaimsJSON> } | null;
}

export function formatUsdc(amount: bigint): string {
  const neg = amount < 0n;
  const abs = neg ? -amount : amount;
  return `${neg ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

/** Largest amount first, then by address, so output is stable. */
export function totalsToJSON(totals: ReadonlyMap<string, ProviderClaims>): Record<string, ProviderClaimsJSON> {
  const entries = [...totals].sort(([a, x], [b, y]) => (x.amount === y.amount ? (a < b ? -1 : 1) : x.amount > y.amount ? -1 : 1));
  return Object.fromEntries(entries.map(([p, t]) => [p, { amount: t.amount.toString(), usdc: formatUsdc(t.amount), claims: t.claims, channels: t.channels }]));
}

const claimKey = (c: { txHash: string; logIndex: number }) => `${c.txHash}:${c.logIndex}`;

/** A saved scanner state that cannot be used: `corrupt` (rescan) or `mismatch` (other contracts or chain). */
export function stateInvalid(message: string, reason: 'corrupt' | 'mismatch'): PolygonError {
  return new PolygonError('POLYGON_STATE_INVALID', `scanner state ${message}`, { details: { reason } });
}

function invalid(message: string, reason: 'corrupt' | 'mismatch' = 'corrupt'): never {
  throw stateInvalid(message, reason);
}

/**
 * What every claims store checks before recording a fetched range: a sane range, and every claim
 * inside it (all or nothing: a claim kept without its range covered would make the state unloadable).
 */
export function checkFetchedRange(range: BlockRange, claims: readonly ChannelClaim[]): void {
  if (!Number.isSafeInteger(range.from) || !Number.isSafeInteger(range.to) || range.from < 0 || range.to < range.from) {
    throw new PolygonError('POLYGON_INVALID_INPUT', `bad block range ${range.from}-${range.to}`);
  }
  const outside = claims.find((c) => c.blockNumber < range.from || c.blockNumber > range.to);
  if (outside) throw new PolygonError('POLYGON_INVALID_INPUT', `claim at block ${outside.blockNumber} is outside the range ${range.from}-${range.to}`);
}

const HEX_WORD = /^0x[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-f]{40}$/;
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isDecimal = (v: unknown): v is string => typeof v === 'string' && /^\d{1,78}$/.test(v);

export interface ClaimsStoreIdentity {
  /** Lowercase contract addresses; order does not matter. */
  contracts: readonly string[];
  chainId: number | null;
}

/** The identity a state is kept for: checked, lowercased, sorted contracts (at least one) and the chain. */
export function claimsIdentity(contracts: readonly string[], chainId: number | null): ClaimsStoreIdentity {
  const list = [...new Set(contracts.map((c) => normalizeAddress(c, 'DRAIN contract')))].sort();
  if (list.length === 0) throw new PolygonError('POLYGON_INVALID_INPUT', 'no DRAIN contract to scan: set DRAIN_CONTRACTS or --polygon.contracts');
  return { contracts: list, chainId };
}

/** What the scanner keeps between rounds, wherever it is kept. Synchronous, as node:sqlite is. */
export interface ClaimsWindow {
  /** Sorted lowercase contracts and the chain the state belongs to. */
  readonly contracts: readonly string[];
  readonly chainId: number | null;
  /** Ranges fetched completely (sorted, disjoint). */
  readonly covered: readonly BlockRange[];
  readonly claimCount: number;
  /** Totals of the last round that covered its whole window. */
  readonly lastComplete: ClaimsSnapshot | null;
  /**
   * Records that `range` was fetched completely and held exactly `claims`, all or nothing.
   * Returns how many were new (a claim seen before is not counted twice).
   */
  addRange(range: BlockRange, claims: readonly ChannelClaim[]): number;
  /** Forgets claims and coverage below `block` (the rolling window moved on). Returns claims dropped. */
  dropBelow(block: number): number;
  /** Forgets everything above `block` (the chain head), a complete window reaching past it included. */
  dropAbove(block: number): { claims: number; blocks: number; lastComplete: boolean };
  /** What is still to fetch in a window. */
  gaps(window: BlockRange): BlockRange[];
  /** Per lowercase provider address, over the claims inside `window` (all claims when omitted). */
  totals(window?: BlockRange): Map<string, ProviderClaims>;
  /** The claims inside a window, oldest first (for inspection and tests). */
  list(window?: BlockRange): ChannelClaim[];
  setLastComplete(snapshot: ClaimsSnapshot): void;
}

/** The same state as JSON, in any adapter (`hs58 scan` output, tests, the format of earlier versions). */
export function claimsStateToJSON(w: ClaimsWindow): ClaimsStateJSON {
  return {
    version: 1,
    chainId: w.chainId,
    contracts: [...w.contracts],
    covered: w.covered.map((r) => [r.from, r.to]),
    claims: w.list().map(claimToJSON),
    lastComplete: lastCompleteToJSON(w.lastComplete),
  };
}

export function lastCompleteToJSON(last: ClaimsSnapshot | null): ClaimsStateJSON['lastComplete'] {
  return last && { from: last.window.from, to: last.window.to, completedAt: last.completedAt, providers: totalsToJSON(last.providers) };
}

/** A saved complete window back; POLYGON_STATE_INVALID (corrupt) when malformed. */
export function lastCompleteFromJSON(last: ClaimsStateJSON['lastComplete'] | undefined): ClaimsSnapshot | null {
  if (last === null || last === undefined) return null;
  if (!isUint(last.from) || !isUint(last.to) || !isUint(last.completedAt) || typeof last.providers !== 'object' || last.providers === null) {
    invalid('has a malformed lastComplete');
  }
  const providers = new Map<string, ProviderClaims>();
  for (const [p, t] of Object.entries(last.providers)) {
    if (!ADDRESS.test(p) || !isDecimal(t?.amount) || !isUint(t.claims) || !isUint(t.channels)) invalid('has malformed lastComplete totals');
    providers.set(p, { amount: BigInt(t.amount), claims: t.claims, channels: t.channels });
  }
  return { window: { from: last.from, to: last.to }, providers, completedAt: last.completedAt };
}

export class ClaimsStore implements ClaimsWindow {
  readonly contracts: readonly string[];
  readonly chainId: number | null;
  lastComplete: ClaimsSnapshot | null = null;
  private readonly claims = new Map<string, ChannelClaim>();
  private coverage: BlockRange[] = [];
  /**
   * One copy of each contract, provider and channel id: a week of claims repeats a few hundred
   * providers and a few thousand channels 10⁵ times (about 200 bytes a claim saved).
   */
  private strings = new Map<string, string>();

  private intern(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

  /** The claim as kept: its repeated strings shared. */
  private keep(c: ChannelClaim): ChannelClaim {
    return {
      contract: this.intern(c.contract),
      channelId: this.intern(c.channelId),
      provider: this.intern(c.provider),
      amount: c.amount,
      blockNumber: c.blockNumber,
      txHash: c.txHash,
      logIndex: c.logIndex,
    };
  }

  constructor(identity: ClaimsStoreIdentity) {
    this.contracts = [...new Set(identity.contracts.map((c) => c.toLowerCase()))].sort();
    this.chainId = identity.chainId;
  }

  /**
   * Rebuilds a store from its JSON. Throws POLYGON_STATE_INVALID with `details.reason`
   * 'corrupt' (unreadable) or 'mismatch' (written for other contracts or another chain).
   */
  static fromJSON(json: unknown, identity: ClaimsStoreIdentity): ClaimsStore {
    const store = new ClaimsStore(identity);
    if (typeof json !== 'object' || json === null) invalid('is not an object');
    const s = json as Partial<ClaimsStateJSON>;
    if (s.version !== 1) invalid(`has unknown version ${JSON.stringify(s.version)}`);
    if (!Array.isArray(s.contracts) || !Array.isArray(s.covered) || !Array.isArray(s.claims)) invalid('lacks contracts, covered or claims');
    const contracts = [...new Set(s.contracts.map((c) => String(c).toLowerCase()))].sort();
    if (contracts.join() !== store.contracts.join()) invalid(`was written for contracts ${contracts.join(', ')}`, 'mismatch');
    if ((s.chainId ?? null) !== store.chainId) invalid(`was written for chain ${s.chainId ?? 'unknown'}`, 'mismatch');
    const covered = s.covered.map((r) => (Array.isArray(r) && isUint(r[0]) && isUint(r[1]) ? { from: r[0], to: r[1] } : invalid('has a bad covered range')));
    if (!isNormalized(covered)) invalid('has overlapping or unsorted covered ranges');
    store.coverage = covered;
    const known = new Set(store.contracts);
    for (const c of s.claims) {
      const ok =
        typeof c === 'object' &&
        c !== null &&
        known.has(c.contract) &&
        HEX_WORD.test(c.channelId) &&
        ADDRESS.test(c.provider) &&
        isDecimal(c.amount) &&
        isUint(c.block) &&
        HEX_WORD.test(c.tx) &&
        isUint(c.logIndex);
      if (!ok) invalid('has a malformed claim');
      if (!covered.some((r) => r.from <= c.block && c.block <= r.to)) invalid(`has a claim at block ${c.block} outside the covered ranges`);
      const claim: ChannelClaim = {
        contract: c.contract,
        channelId: c.channelId,
        provider: c.provider,
        amount: BigInt(c.amount),
        blockNumber: c.block,
        txHash: c.tx,
        logIndex: c.logIndex,
      };
      store.claims.set(claimKey(claim), store.keep(claim));
    }
    store.lastComplete = lastCompleteFromJSON(s.lastComplete);
    return store;
  }

  toJSON(): ClaimsStateJSON {
    return claimsStateToJSON(this);
  }

  /**
   * `JSON.stringify(this.toJSON())` in pieces of a few hundred claims, so that saving a week of
   * claims never builds them all as JSON objects or as one string (each piece stays small enough
   * for V8's young generation). The state is taken when this is called; claims added while the
   * pieces are written are not in them, and neither are their blocks in `covered`.
   */
  jsonPieces(claimsPerPiece = 200): Iterable<string> {
    const head = JSON.stringify(this.stateHead());
    const claims = this.sortedClaims();
    const tail = JSON.stringify(lastCompleteToJSON(this.lastComplete));
    return (function* () {
      yield `${head.slice(0, -1)},"claims":[`;
      for (let i = 0; i < claims.length; i += claimsPerPiece) {
        const part = JSON.stringify(claims.slice(i, i + claimsPerPiece).map(claimToJSON));
        yield `${i === 0 ? '' : ','}${part.slice(1, -1)}`;
      }
      yield `],"lastComplete":${tail}}`;
    })();
  }

  private stateHead(): Pick<ClaimsStateJSON, 'version' | 'chainId' | 'contracts' | 'covered'> {
    return { version: 1, chainId: this.chainId, contracts: [...this.contracts], covered: this.coverage.map((r) => [r.from, r.to]) };
  }

  private sortedClaims(): ChannelClaim[] {
    return [...this.claims.values()].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }

  get covered(): readonly BlockRange[] {
    return this.coverage;
  }

  get claimCount(): number {
    return this.claims.size;
  }

  setLastComplete(snapshot: ClaimsSnapshot): void {
    this.lastComplete = snapshot;
  }

  /**
   * Records that `range` was fetched completely and held exactly `claims`. Returns how many
   * were new (a claim seen before, e.g. fetched again after a restart, is not counted twice).
   */
  addRange(range: BlockRange, claims: readonly ChannelClaim[]): number {
    checkFetchedRange(range, claims);
    let added = 0;
    for (const c of claims) {
      const key = claimKey(c);
      if (!this.claims.has(key)) {
        this.claims.set(key, this.keep(c));
        added += 1;
      }
    }
    this.coverage = addRange(this.coverage, range);
    return added;
  }

  /** Forgets claims and coverage below `block` (the rolling window moved on). Returns claims dropped. */
  dropBelow(block: number): number {
    let dropped = 0;
    for (const [key, c] of this.claims) {
      if (c.blockNumber < block) {
        this.claims.delete(key);
        dropped += 1;
      }
    }
    if (dropped > 0) {
      // Forget the strings only dropped claims used (channels come and go over months).
      this.strings = new Map();
      for (const c of this.claims.values()) for (const v of [c.contract, c.channelId, c.provider]) this.strings.set(v, v);
    }
    this.coverage = clipBelow(this.coverage, block);
    return dropped;
  }

  /**
   * Forgets everything above `block` (the chain head): claims, covered ranges and a complete
   * window reaching past it. A saved state cannot know blocks the chain has not produced; one that
   * says it does (another chain's file, an edited one) would otherwise hide the claims to come.
   */
  dropAbove(block: number): { claims: number; blocks: number; lastComplete: boolean } {
    let claims = 0;
    for (const [key, c] of this.claims) {
      if (c.blockNumber > block) {
        this.claims.delete(key);
        claims += 1;
      }
    }
    const before = blockCount(this.coverage);
    this.coverage = clipAbove(this.coverage, block);
    const blocks = before - blockCount(this.coverage);
    const lastComplete = this.lastComplete !== null && this.lastComplete.window.to > block;
    if (lastComplete) this.lastComplete = null;
    return { claims, blocks, lastComplete };
  }

  /** What is still to fetch in a window. */
  gaps(window: BlockRange): BlockRange[] {
    return gapsIn(this.coverage, window);
  }

  /** Per lowercase provider address, over the claims inside `window` (all claims when omitted). */
  totals(window?: BlockRange): Map<string, ProviderClaims> {
    // Channels per contract: no "contract:channel" string per claim (10⁵ of them each round).
    const acc = new Map<string, { amount: bigint; claims: number; channels: Map<string, Set<string>> }>();
    for (const c of this.claims.values()) {
      if (window && (c.blockNumber < window.from || c.blockNumber > window.to)) continue;
      let t = acc.get(c.provider);
      if (!t) {
        t = { amount: 0n, claims: 0, channels: new Map() };
        acc.set(c.provider, t);
      }
      t.amount += c.amount;
      t.claims += 1;
      let ids = t.channels.get(c.contract);
      if (!ids) t.channels.set(c.contract, (ids = new Set()));
      ids.add(c.channelId);
    }
    const distinct = (channels: Map<string, Set<string>>) => [...channels.values()].reduce((n, ids) => n + ids.size, 0);
    return new Map([...acc].map(([p, t]) => [p, { amount: t.amount, claims: t.claims, channels: distinct(t.channels) }]));
  }

  /** The claims inside a window, oldest first (for inspection and tests). */
  list(window?: BlockRange): ChannelClaim[] {
    return this.sortedClaims().filter((c) => !window || (c.blockNumber >= window.from && c.blockNumber <= window.to));
  }
}

export function claimToJSON(c: ChannelClaim): ClaimsStateJSON['claims'][number] {
  return {
    contract: c.contract,
    channelId: c.channelId,
    provider: c.provider,
    amount: c.amount.toString(),
    block: c.blockNumber,
    tx: c.txHash,
    logIndex: c.logIndex,
  };
}
