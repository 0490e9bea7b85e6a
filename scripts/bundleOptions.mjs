// How hs58 is bundled for production (scripts/build.mjs) and for the benchmarks that measure it
// (bench/axon.ts --compiled, bench/validator-memory.ts): the dependencies are bundled in, not left
// as imports of node_modules. On Node 24 every ES module a process loads costs native memory of
// its own (importing @polkadot/util as its ~200 files costs 46 MB of anonymous memory, bundled
// 16 MB): bundled, an idle miner holds ~114 MB instead of ~142 MB.
//
// Left as imports of node_modules: the development tools the local network and `hs58 rehearse`
// load lazily (devDependencies, absent from a production install), packages that read files
// beside themselves at run time (BullMQ's Lua scripts, pino's worker files) with the client they
// share (ioredis), and optional native or light-client packages loaded only on demand.
export const EXTERNAL = [
  '@acala-network/*',
  '@foundry-rs/*',
  'solc',
  'esbuild',
  'tsx',
  'typescript',
  'bullmq',
  'ioredis',
  'msgpackr',
  'msgpackr-extract',
  'pino',
  'thread-stream',
  'pino-pretty',
  '@opentelemetry/api',
  '@substrate/connect',
  'smoldot',
];

/** esbuild options shared by every production-like bundle; add entryPoints, outdir/outfile. */
export const BUNDLE_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  external: EXTERNAL,
  // CommonJS dependencies inside an ES module bundle still call require() (events, crypto, …).
  banner: { js: "import { createRequire as __hs58CreateRequire } from 'node:module';\nconst require = __hs58CreateRequire(import.meta.url);" },
  // No comments or indentation: V8 keeps each module's source text in the heap, and one character
  // outside Latin-1 in a comment (an arrow, an ellipsis) stores the whole text as UTF-16, twice its
  // size (the main chunk: 6.2 MB instead of 1.6 MB). Names stay, so stack traces read the same.
  minifyWhitespace: true,
  logLevel: 'warning',
};
