/**
 * The one declaration of every setting: its CLI flag (bittensor's dotted names),
 * the env vars that feed it (first the Python Subnet 58 daemons' name, then the bittensor
 * SDK's `BT_*` name where it means the same; the first one set wins), its default and what it means.
 * CLI parsing, env/.env loading, `.env.example` and the README's table all come
 * from this list.
 */

export type OptionKind = 'string' | 'int' | 'number' | 'bool' | 'list' | 'enum';
export type Role = 'common' | 'miner' | 'validator' | 'tools';

export interface OptionSpec {
  kind: OptionKind;
  /** Env vars read for this option, first set wins. */
  env?: readonly string[];
  /** No CLI flag: secrets are passed by env or .env only, never on a command line. */
  envOnly?: boolean;
  default: string | number | boolean | readonly string[] | null;
  description: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
  secret?: boolean;
  /** With `choices`: a ws:// or wss:// URL is accepted too (the SDK's --subtensor.network). */
  orWebSocketUrl?: boolean;
  role: Role;
}

export const DRAIN_V1 = '0x1C1918C99b6DcE977392E4131C91654d8aB71e64';
export const DRAIN_V2 = '0x0C2B3aA1e80629D572b1f200e6DF3586B3946A8A';
export const DEFAULT_POLYGON_RPCS = ['https://polygon-rpc.com', 'https://polygon-bor-rpc.publicnode.com', 'https://1rpc.io/matic'] as const;
export const DEFAULT_REGISTRY_URLS = ['https://handshake58.com/api/validator/registry', 'https://mpp.dev/api/services'] as const;

const opt = <const T extends OptionSpec>(o: T): T => o;

export const OPTIONS = {
  // --- common ---------------------------------------------------------------------------
  netuid: opt({ kind: 'int', env: ['NETUID'], default: 58, min: 0, max: 65535, role: 'common', description: 'Subnet id.' }),
  'neuron.type': opt({
    kind: 'enum',
    env: ['NEURON_TYPE'],
    default: 'validator',
    choices: ['miner', 'validator'],
    role: 'common',
    description: 'Which daemon entrypoint.sh starts.',
  }),
  'wallet.name': opt({
    kind: 'string',
    env: ['WALLET_NAME', 'BT_WALLET_NAME'],
    default: 'default',
    role: 'common',
    description: 'Wallet (coldkey) folder name under --wallet.path.',
  }),
  'wallet.hotkey': opt({
    kind: 'string',
    env: ['HOTKEY_NAME', 'BT_WALLET_HOTKEY'],
    default: 'default',
    role: 'common',
    description: 'Hotkey file name under <wallet>/hotkeys/.',
  }),
  'wallet.path': opt({
    kind: 'string',
    env: ['BT_WALLET_PATH'],
    default: '~/.bittensor/wallets',
    role: 'common',
    description: 'Folder holding bittensor wallets.',
  }),
  'wallet.hotkey_b64': opt({
    kind: 'string',
    env: ['BT_HOTKEY_B64'],
    envOnly: true,
    secret: true,
    default: null,
    role: 'common',
    description: 'Base64 of the hotkey file; used instead of the file when set (decoded in memory).',
  }),
  'wallet.coldkeypub_b64': opt({
    kind: 'string',
    env: ['BT_COLDKEYPUB_B64'],
    envOnly: true,
    default: null,
    role: 'common',
    description: 'Base64 of coldkeypub.txt.',
  }),
  'wallet.coldkey_b64': opt({
    kind: 'string',
    env: ['BT_COLDKEY_B64'],
    envOnly: true,
    secret: true,
    default: null,
    role: 'common',
    description: 'Base64 of the coldkey file; not needed by the daemons and ignored with a notice.',
  }),
  'subtensor.network': opt({
    kind: 'string',
    env: ['SUBTENSOR_NETWORK', 'BT_SUBTENSOR_NETWORK'],
    default: 'finney',
    choices: ['finney', 'test', 'archive', 'local', 'latent-lite'],
    orWebSocketUrl: true,
    role: 'common',
    description:
      'Bittensor network, as the SDK takes it (finney, test, archive, local, latent-lite, or a ws(s):// URL); sets the endpoint unless --subtensor.chain_endpoint is given.',
  }),
  'subtensor.chain_endpoint': opt({
    kind: 'string',
    env: ['SUBTENSOR_CHAIN_ENDPOINT', 'BT_SUBTENSOR_CHAIN_ENDPOINT'],
    default: null,
    role: 'common',
    description: 'WebSocket endpoint (ws:// or wss://) overriding --subtensor.network.',
  }),
  'subtensor.chain_spec': opt({
    kind: 'string',
    env: ['SUBTENSOR_CHAIN_SPEC'],
    default: null,
    role: 'tools',
    description: 'Raw chain spec for Chopsticks (localnet and tests).',
  }),
  'neuron.timeout': opt({
    kind: 'number',
    env: ['NEURON_TIMEOUT'],
    default: 30,
    min: 0.1,
    max: 600,
    role: 'common',
    description: 'Seconds a dendrite waits for an axon.',
  }),
  'neuron.epoch_length': opt({
    kind: 'int',
    env: ['EPOCH_LENGTH'],
    default: 360,
    min: 1,
    max: 100000,
    role: 'common',
    description: 'Blocks between validator rounds (and between miner metagraph syncs ×12 s).',
  }),
  'neuron.state_path': opt({
    kind: 'string',
    env: ['HS58_STATE_PATH'],
    default: '~/.hs58',
    role: 'common',
    description: 'Folder for state files (EMA scores, scan cursor, commit-reveal salts).',
  }),
  'logging.debug': opt({ kind: 'bool', env: ['LOG_DEBUG', 'BT_LOGGING_DEBUG'], default: false, role: 'common', description: 'Debug log level.' }),
  'logging.trace': opt({ kind: 'bool', env: ['LOG_TRACE', 'BT_LOGGING_TRACE'], default: false, role: 'common', description: 'Trace log level.' }),
  'logging.info': opt({
    kind: 'bool',
    env: ['LOG_INFO', 'BT_LOGGING_INFO'],
    default: false,
    role: 'common',
    description: 'Info log level (the default; accepted as the Python daemons take it).',
  }),
  'logging.level': opt({
    kind: 'enum',
    env: ['LOG_LEVEL'],
    default: null,
    choices: ['trace', 'debug', 'info', 'warn', 'error'],
    role: 'common',
    description: 'Log level when no --logging.trace/debug/info flag is given; default info.',
  }),
  'logging.format': opt({
    kind: 'enum',
    env: ['LOG_FORMAT'],
    default: 'auto',
    choices: ['auto', 'pretty', 'json'],
    role: 'common',
    description: 'auto: one readable line per event on a terminal, JSON lines elsewhere (Railway, Docker, systemd).',
  }),
  'metrics.port': opt({
    kind: 'int',
    env: ['METRICS_PORT'],
    default: 9100,
    min: 0,
    max: 65535,
    role: 'common',
    description: 'Port of /health, /metrics (and /status on the validator); 0 turns it off.',
  }),
  'metrics.host': opt({ kind: 'string', env: ['METRICS_HOST'], default: '0.0.0.0', role: 'common', description: 'Address /health and /metrics listen on.' }),

  // --- miner ---------------------------------------------------------------------------
  'axon.port': opt({
    kind: 'int',
    env: ['AXON_PORT', 'BT_AXON_PORT'],
    default: 8091,
    min: 1,
    max: 65535,
    role: 'miner',
    description: 'Port the axon listens on.',
  }),
  'axon.ip': opt({ kind: 'string', env: ['AXON_IP', 'BT_AXON_IP'], default: '0.0.0.0', role: 'miner', description: 'Address the axon listens on.' }),
  'axon.external_ip': opt({
    kind: 'string',
    env: ['AXON_EXTERNAL_IP', 'BT_AXON_EXTERNAL_IP'],
    default: null,
    role: 'miner',
    description: 'IP or host name served on chain (a host name is resolved to IPv4 and re-served when it changes).',
  }),
  'axon.external_port': opt({
    kind: 'int',
    env: ['AXON_EXTERNAL_PORT', 'BT_AXON_EXTERNAL_PORT'],
    default: null,
    min: 1,
    max: 65535,
    role: 'miner',
    description: 'Port served on chain; defaults to --axon.port.',
  }),
  'axon.max_queue': opt({
    kind: 'int',
    env: ['AXON_MAX_QUEUE'],
    default: 256,
    min: 1,
    max: 100000,
    role: 'miner',
    description: 'Requests waiting for a handler before the axon answers 503.',
  }),
  'axon.verify_threads': opt({
    kind: 'int',
    env: ['AXON_VERIFY_THREADS'],
    default: null,
    min: 0,
    max: 64,
    role: 'miner',
    description: 'Worker threads verifying request signatures; default one per CPU core, 0 verifies on the main thread.',
  }),
  'blacklist.force_validator_permit': opt({
    kind: 'bool',
    env: ['BLACKLIST_FORCE_VALIDATOR_PERMIT'],
    default: true,
    role: 'miner',
    description: 'Only callers with a validator permit are served (set false to relax).',
  }),
  'blacklist.min_stake': opt({ kind: 'number', env: ['BLACKLIST_MIN_STAKE'], default: 0, min: 0, role: 'miner', description: 'Minimum caller stake in TAO.' }),
  'polygon.wallet': opt({
    kind: 'string',
    env: ['POLYGON_WALLET'],
    default: null,
    role: 'miner',
    description: 'Polygon address that receives DRAIN payments (must match POLYGON_PRIVATE_KEY).',
  }),
  'polygon.private_key': opt({
    kind: 'string',
    env: ['POLYGON_PRIVATE_KEY'],
    envOnly: true,
    secret: true,
    default: null,
    role: 'miner',
    description: 'Private key of POLYGON_WALLET, for the ownership proof.',
  }),
  'miner.api_url': opt({ kind: 'string', env: ['API_URL'], default: null, role: 'miner', description: 'Public URL of the provider this miner runs.' }),
  'marketplace.url': opt({
    kind: 'string',
    env: ['MARKETPLACE_URL'],
    default: 'https://www.handshake58.com',
    role: 'common',
    description: 'Handshake58 marketplace (registration, probe alerts).',
  }),
  'marketplace.register': opt({
    kind: 'bool',
    env: ['MARKETPLACE_REGISTER'],
    default: true,
    role: 'miner',
    description: 'Register the miner on the marketplace at start.',
  }),
  'probe.timeout_ms': opt({
    kind: 'int',
    env: ['PROBE_TIMEOUT_MS'],
    default: 5000,
    min: 100,
    max: 60000,
    role: 'miner',
    description: 'Timeout of one provider probe.',
  }),
  'probe.max_redirects': opt({
    kind: 'int',
    env: ['PROBE_MAX_REDIRECTS'],
    default: 5,
    min: 0,
    max: 20,
    role: 'miner',
    description: 'Redirects a probe follows.',
  }),
  'probe.max_body_bytes': opt({
    kind: 'int',
    env: ['PROBE_MAX_BODY_BYTES'],
    default: 1048576,
    min: 0,
    role: 'miner',
    description: 'Bytes of a probed body read before the rest is dropped.',
  }),
  'probe.concurrency': opt({ kind: 'int', env: ['PROBE_CONCURRENCY'], default: 16, min: 1, max: 1024, role: 'miner', description: 'Probes running at once.' }),
  'probe.allow': opt({
    kind: 'list',
    env: ['PROBE_ALLOW'],
    default: [],
    role: 'miner',
    description: 'Hosts or CIDRs a probe may reach although private/loopback (local networks only).',
  }),

  // --- validator ---------------------------------------------------------------------------
  'neuron.axon_off': opt({
    kind: 'bool',
    env: ['AXON_OFF'],
    default: false,
    role: 'validator',
    description: 'Accepted for compatibility: the validator serves no axon.',
  }),
  'neuron.disable_set_weights': opt({
    kind: 'bool',
    env: ['DISABLE_SET_WEIGHTS'],
    default: false,
    role: 'validator',
    description: 'Compute weights but never submit them.',
  }),
  'neuron.dry_run': opt({
    kind: 'bool',
    env: ['DRY_RUN'],
    default: false,
    role: 'validator',
    description: 'Everything but the submission; prints the weight table.',
  }),
  'neuron.moving_average_alpha': opt({
    kind: 'number',
    env: ['MOVING_AVERAGE_ALPHA'],
    default: null,
    min: 0,
    max: 1,
    role: 'validator',
    description: 'EMA α; defaults to the preset’s (hs58 0.1, drain-v1 0.1, oracle-v2.1 0.3).',
  }),
  'neuron.worker': opt({
    kind: 'bool',
    env: ['HS58_WORKER'],
    default: false,
    role: 'validator',
    description: 'Run as a BullMQ worker taking proof and probe jobs (needs REDIS_URL).',
  }),
  'scoring.preset': opt({
    kind: 'enum',
    env: ['SCORING_PRESET'],
    default: null,
    choices: ['hs58', 'drain-v1', 'oracle-v2.1'],
    role: 'validator',
    description:
      'How rewards are computed (see README). Unset: oracle-v2.1, what the live Subnet 58 validators (HS58-subnet 2.1.1) compute; `hs58 localnet` runs hs58.',
  }),
  'neuron.weights_version': opt({
    kind: 'int',
    env: ['WEIGHTS_VERSION_KEY'],
    default: null,
    min: 0,
    role: 'validator',
    description:
      'version_key sent with weights. Unset: the preset’s Python spec_version (oracle-v2.1 and hs58 2011, drain-v1 1000). Weights are not sent while it is below the subnet’s WeightsVersionKey.',
  }),
  'neuron.import_state': opt({
    kind: 'string',
    env: ['HS58_IMPORT_STATE'],
    default: null,
    role: 'validator',
    description:
      'A Python validator’s state.npz to take the EMA scores, hotkeys and step from on the first start (no state.json yet). Unset: ~/.bittensor/miners/<wallet.name>/<wallet.hotkey>/netuid<netuid>/validator/state.npz when it exists; none: never import.',
  }),
  'scoring.probes_per_round': opt({
    kind: 'int',
    env: ['PROBES_PER_ROUND'],
    default: 5,
    min: 0,
    max: 100,
    role: 'validator',
    description: 'Providers sampled per round; 0 turns probing off.',
  }),
  'polygon.rpc_url': opt({
    kind: 'list',
    env: ['POLYGON_RPC_URL'],
    default: [...DEFAULT_POLYGON_RPCS],
    role: 'validator',
    description: 'Polygon JSON-RPC endpoints, comma-separated or the flag repeated.',
  }),
  'polygon.contracts': opt({
    kind: 'list',
    env: ['DRAIN_CONTRACTS'],
    default: [DRAIN_V1, DRAIN_V2],
    role: 'validator',
    description: 'DrainChannel contracts to scan.',
  }),
  'polygon.log_chunk_size': opt({
    kind: 'int',
    env: ['LOG_CHUNK_SIZE'],
    default: 2000,
    min: 1,
    max: 1_000_000,
    role: 'validator',
    description: 'Starting eth_getLogs block range (split on "range too large").',
  }),
  'polygon.confirmations': opt({
    kind: 'int',
    env: ['POLYGON_CONFIRMATIONS'],
    default: 32,
    min: 0,
    max: 10_000,
    role: 'validator',
    description: 'Blocks deep a claim must be to count as final.',
  }),
  'polygon.window_days': opt({
    kind: 'number',
    env: ['CLAIMS_WINDOW_DAYS'],
    default: 7,
    min: 0.001,
    max: 365,
    role: 'validator',
    description: 'Rolling window of claims.',
  }),
  'polygon.blocks_per_day': opt({
    kind: 'int',
    env: ['POLYGON_BLOCKS_PER_DAY'],
    default: 43200,
    min: 1,
    role: 'validator',
    description: 'Polygon blocks per day (2 s blocks).',
  }),
  'polygon.chain_id': opt({
    kind: 'int',
    env: ['POLYGON_CHAIN_ID'],
    default: 137,
    min: 1,
    role: 'validator',
    description: 'eth_chainId every Polygon endpoint must answer (137 mainnet; 31337 on the local network).',
  }),
  'polygon.concurrency': opt({
    kind: 'int',
    env: ['POLYGON_RPC_CONCURRENCY'],
    default: 4,
    min: 1,
    max: 64,
    role: 'validator',
    description: 'Requests in flight per endpoint.',
  }),
  'registry.urls': opt({
    kind: 'list',
    env: ['REGISTRY_URLS'],
    default: [...DEFAULT_REGISTRY_URLS],
    role: 'validator',
    description: 'Provider registries, first that answers wins.',
  }),
  'validator.secret': opt({
    kind: 'string',
    env: ['VALIDATOR_SECRET'],
    envOnly: true,
    secret: true,
    default: null,
    role: 'validator',
    description: 'Sent as x-validator-secret with probe alerts.',
  }),
  'redis.url': opt({
    kind: 'string',
    env: ['REDIS_URL'],
    secret: true,
    default: null,
    role: 'validator',
    description: 'Redis for BullMQ scale-out; unset runs jobs in-process.',
  }),
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

type ValueOf<S extends OptionSpec> = S['kind'] extends 'int' | 'number'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? string[]
      : S['kind'] extends 'enum'
        ? S['choices'] extends readonly (infer C)[]
          ? C
          : string
        : string;

type Nullable<S extends OptionSpec> = S['default'] extends null ? null : never;

export type Config = { -readonly [K in OptionName]: ValueOf<(typeof OPTIONS)[K]> | Nullable<(typeof OPTIONS)[K]> };
