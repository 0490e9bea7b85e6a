# hs58 miner / validator image. Build: docker build -t hs58 .
# Run:   docker run --init --env-file .env -e NEURON_TYPE=miner -p 8091:8091 hs58
# The daemons run the production build (`npm run build`: dist/hs58.mjs, bundled by esbuild), not
# the TypeScript sources through tsx: about 35–60 MB less memory per daemon (bench/README.md).

ARG NODE_IMAGE=node:24-bookworm-slim

# --- dependencies -------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Stand-ins package.json's overrides install (stubs/README.md).
COPY stubs ./stubs
# Install scripts: every package named in package.json's "allowScripts" is set to false;
# --ignore-scripts gives the same result with any npm, including one that does not read that
# field. (Revisit this line if an allowScripts entry ever becomes true.)
# Production modules only: no devDependencies (the local network's Chopsticks, anvil and solc,
# esbuild, tsx, TypeScript), and no optional ones, which the daemons do without: TypeScript 7 (an
# optional peer of viem's abitype), smoldot and @substrate/connect (@polkadot/api's light client;
# the daemons use WebSockets), msgpackr-extract (BullMQ's msgpack falls back to JavaScript) and
# esbuild's binary. 188 MB (233 MB with --omit=dev alone; README, Deploying).
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm prune --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# --- build: dist/hs58.mjs -----------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY stubs ./stubs
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY neurons ./neurons
COPY src ./src
# The dev harness (`hs58 localnet`) is bundled too: in this image it says in one line what to install.
COPY localnet ./localnet
# The commit `hs58 --version` and hs58_build_info report (the context has no .git):
#   docker build --build-arg HS58_COMMIT=$(git rev-parse --short=12 HEAD) -t hs58 .
ARG HS58_COMMIT=unknown
RUN HS58_COMMIT=${HS58_COMMIT} node scripts/build.mjs

# --- runtime ------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# entrypoint.sh gives the miner NODE_OPTIONS=--max-semi-space-size=2 unless NODE_OPTIONS is set.
ENV NODE_ENV=production \
    HOME=/home/hs58
# A fixed uid so that volumes can be prepared on the host (chown 10001).
RUN groupadd --gid 10001 hs58 \
 && useradd --uid 10001 --gid hs58 --home-dir /home/hs58 --create-home --shell /usr/sbin/nologin hs58 \
 && install -d -m 0700 -o hs58 -g hs58 /home/hs58/.bittensor /home/hs58/.hs58
WORKDIR /app
# Owned by root and read-only for the daemon; it writes only under $HOME (wallet, state).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY stubs ./stubs
COPY --from=build /app/dist ./dist
COPY entrypoint.sh ./entrypoint.sh
RUN chmod 0755 /app/entrypoint.sh /app/dist/hs58.mjs

USER 10001:10001
# 8091: the miner's axon (AXON_PORT); 9100: /health and /metrics (METRICS_PORT).
EXPOSE 8091 9100
# No curl in the slim image: Node's fetch asks /health (503 when the daemon is down).
# METRICS_PORT=0 turns the endpoint off, and then the check passes.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
  CMD ["node", "-e", "const p = process.env.METRICS_PORT || '9100'; if (p === '0') process.exit(0); fetch('http://127.0.0.1:' + p + '/health', { signal: AbortSignal.timeout(8000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]
ENTRYPOINT ["/app/entrypoint.sh"]
