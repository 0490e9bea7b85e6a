#!/bin/sh
# Container entrypoint of the hs58 image (also usable on a plain machine):
#   1. writes the bittensor wallet files from the base64 variables (`hs58 wallet import`);
#   2. starts `hs58 miner` or `hs58 validator` with the flags the Python daemons' entrypoint used;
#   3. restarts the daemon when it fails, with a backoff of 5 s doubling to 120 s.
#
# Variables (the same as the Python subnet's container):
#   NEURON_TYPE        miner | validator (default validator)
#   WALLET_NAME        wallet folder under ~/.bittensor/wallets (default hs58)
#   HOTKEY_NAME        hotkey file name (default validator)
#   BT_HOTKEY_B64      base64 of the hotkey file          } required, print both with
#   BT_COLDKEYPUB_B64  base64 of coldkeypub.txt           } `hs58 wallet encode`
#   BT_COLDKEY_B64     base64 of the coldkey (optional, not needed by the daemons)
#   NETUID (58), AXON_PORT (8091), AXON_EXTERNAL_IP, AXON_EXTERNAL_PORT (AXON_PORT)
#   On Railway, a miner without AXON_EXTERNAL_IP serves the service's TCP proxy
#   (RAILWAY_TCP_PROXY_DOMAIN / RAILWAY_TCP_PROXY_PORT, which Railway sets).
# Arguments given to this script are passed on to the daemon.
#
# Daemon exit status: 0 stops this script; 42 (self-update) restarts at once; anything else
# restarts after the backoff, which starts over after a run that lasted 10 minutes.
# SIGTERM and SIGINT are passed to the daemon, and this script exits once it has stopped.
#
# Test hooks (not for production):
#   HS58_BIN                   program started as the daemon instead of hs58 (the wallet
#                              import always runs the real hs58)
#
# hs58 is `node dist/hs58.mjs` (the production build, `npm run build`) when it is there, else
# `node bin/hs58.js` (the TypeScript sources through tsx). Unless NODE_OPTIONS is set, each daemon
# gets the V8 sizes bench:validator measured best on Node 24 (bench/README.md: daemon memory): the
# miner a small young generation, a 96 MB old-generation cap (its live heap stays under 40 MB) and
# one V8 helper thread; the validator a young generation of 4 MB a half (Node 24's default grows to
# 64 MB and more) and a 192 MB old-generation cap (its live heap is about 60 MB; without a cap V8 lets
# the first backfill's garbage pile up to 130 MB before collecting it). MALLOC_ARENA_MAX=2 (unless
# set) keeps glibc from giving each thread an arena of its own.
#   HS58_SLEEP                 command called as `$HS58_SLEEP <seconds>` for the backoff (default sleep)
#   HS58_BACKOFF_RESET_AFTER   seconds a run must last to reset the backoff (default 600)

set -u

APP_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

BACKOFF_INITIAL=5
BACKOFF_MAX=120
EXIT_SELF_UPDATE=42
BACKOFF_RESET_AFTER=${HS58_BACKOFF_RESET_AFTER:-600}
SLEEP_CMD=${HS58_SLEEP:-sleep}

log() {
  printf 'entrypoint: %s\n' "$*" >&2
}

die() {
  code=$1
  shift
  for line in "$@"; do log "$line"; done
  exit "$code"
}

# --- which hs58 --------------------------------------------------------------------------
# The build when there is one (the image has nothing else). In a checkout whose build is older
# than its sources (a `git pull` without `npm run build`), the sources, with a line saying so.
if [ -f "$APP_DIR/dist/hs58.mjs" ]; then
  HS58_MAIN=$APP_DIR/dist/hs58.mjs
  if [ -f "$APP_DIR/bin/hs58.js" ] && [ -n "$(find "$APP_DIR/src" "$APP_DIR/neurons" -name '*.ts' -newer "$HS58_MAIN" 2>/dev/null | head -n 1)" ]; then
    HS58_MAIN=$APP_DIR/bin/hs58.js
    log "dist/hs58.mjs is older than the sources: running the sources; run \`npm run build\` to run the build."
  fi
elif [ -f "$APP_DIR/bin/hs58.js" ]; then
  HS58_MAIN=$APP_DIR/bin/hs58.js
else
  die 1 "neither dist/hs58.mjs nor bin/hs58.js is in $APP_DIR; run \`npm run build\` there."
fi

# --- signals -----------------------------------------------------------------------------
# A background child of a non-interactive shell starts with SIGINT ignored, so both
# signals reach the daemon as SIGTERM (hs58 treats them alike: a clean shutdown).
child_pid=''
sleep_pid=''
stop_signal=''

on_signal() {
  stop_signal=$1
  if [ -n "$child_pid" ]; then kill -TERM "$child_pid" 2>/dev/null; fi
  if [ -n "$sleep_pid" ]; then kill -TERM "$sleep_pid" 2>/dev/null; fi
}
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT

stop_now() {
  log "received SIG$stop_signal; stopped."
  exit 0
}

# Runs "$@" in the background so that signals are handled while it runs; sets run_status.
run_child() {
  "$@" &
  child_pid=$!
  if [ -n "$stop_signal" ]; then kill -TERM "$child_pid" 2>/dev/null; fi
  wait "$child_pid"
  run_status=$?
  # `wait` also returns when a trapped signal arrives; wait again until the child is gone.
  while kill -0 "$child_pid" 2>/dev/null; do
    wait "$child_pid"
    run_status=$?
  done
  child_pid=''
}

pause() {
  "$SLEEP_CMD" "$1" &
  sleep_pid=$!
  wait "$sleep_pid"
  sleep_pid=''
}

# --- settings ----------------------------------------------------------------------------
NEURON_TYPE=${NEURON_TYPE:-validator}
WALLET_NAME=${WALLET_NAME:-hs58}
HOTKEY_NAME=${HOTKEY_NAME:-validator}
export NEURON_TYPE WALLET_NAME HOTKEY_NAME

case $NEURON_TYPE in
  miner | validator) ;;
  *) die 2 "NEURON_TYPE=\"$NEURON_TYPE\" is not valid; set it to miner or validator (default validator)." ;;
esac

case $BACKOFF_RESET_AFTER in
  '' | *[!0-9]*) die 2 "HS58_BACKOFF_RESET_AFTER=\"$BACKOFF_RESET_AFTER\" must be a whole number of seconds." ;;
esac

# --- wallet ------------------------------------------------------------------------------
wallet_root=${BT_WALLET_PATH:-$HOME/.bittensor/wallets}
case $wallet_root in
  \~) wallet_root=$HOME ;;
  \~/*) wallet_root=$HOME/${wallet_root#\~/} ;;
esac
hotkey_file=$wallet_root/$WALLET_NAME/hotkeys/$HOTKEY_NAME
coldkeypub_file=$wallet_root/$WALLET_NAME/coldkeypub.txt

if [ -z "${BT_HOTKEY_B64:-}" ] && [ -z "${BT_COLDKEYPUB_B64:-}" ] && [ -f "$hotkey_file" ] && [ -f "$coldkeypub_file" ]; then
  # No variables, but the files are there (a mounted wallet folder): use them as they are.
  log "BT_HOTKEY_B64 and BT_COLDKEYPUB_B64 are not set; using the wallet files in $wallet_root/$WALLET_NAME."
else
  missing=''
  [ -n "${BT_HOTKEY_B64:-}" ] || missing="$missing BT_HOTKEY_B64"
  [ -n "${BT_COLDKEYPUB_B64:-}" ] || missing="$missing BT_COLDKEYPUB_B64"
  if [ -n "$missing" ]; then
    for name in $missing; do
      case $name in
        BT_HOTKEY_B64) log "BT_HOTKEY_B64 is not set: it must hold the base64 of the hotkey file (wallets/$WALLET_NAME/hotkeys/$HOTKEY_NAME)." ;;
        BT_COLDKEYPUB_B64) log "BT_COLDKEYPUB_B64 is not set: it must hold the base64 of wallets/$WALLET_NAME/coldkeypub.txt." ;;
      esac
    done
    die 2 \
      "To get the values, run this where the wallet is and paste the lines it prints into the service's variables:" \
      "  hs58 wallet encode --wallet.name $WALLET_NAME --wallet.hotkey $HOTKEY_NAME" \
      "(or: base64 -w 0 < ~/.bittensor/wallets/$WALLET_NAME/hotkeys/$HOTKEY_NAME, and the same for coldkeypub.txt)."
  fi
  node "$HS58_MAIN" wallet import --wallet.name "$WALLET_NAME" --wallet.hotkey "$HOTKEY_NAME"
  import_status=$?
  [ "$import_status" -eq 0 ] || die "$import_status" "writing the wallet files failed (status $import_status); see the message above."
fi
# The daemon reads the files just written: keep the secrets out of its environment.
unset BT_HOTKEY_B64 BT_COLDKEY_B64 BT_COLDKEYPUB_B64
[ -z "$stop_signal" ] || stop_now

# --- daemon command ----------------------------------------------------------------------
netuid=${NETUID:-58}
if [ "$NEURON_TYPE" = miner ]; then
  axon_port=${AXON_PORT:-${RAILWAY_TCP_APPLICATION_PORT:-8091}}
  external_ip=${AXON_EXTERNAL_IP:-}
  external_port=${AXON_EXTERNAL_PORT:-}
  # On Railway, validators reach the axon only through the service's TCP proxy: serve its
  # address unless AXON_EXTERNAL_IP says otherwise.
  if [ -z "$external_ip" ] && [ -n "${RAILWAY_TCP_PROXY_DOMAIN:-}" ]; then
    external_ip=$RAILWAY_TCP_PROXY_DOMAIN
    external_port=${external_port:-${RAILWAY_TCP_PROXY_PORT:-}}
    log "AXON_EXTERNAL_IP is not set: serving Railway's TCP proxy $external_ip:${external_port:-$axon_port}."
  fi
  if [ -n "${RAILWAY_TCP_APPLICATION_PORT:-}" ] && [ "$RAILWAY_TCP_APPLICATION_PORT" != "$axon_port" ]; then
    log "warning: Railway's TCP proxy forwards to port $RAILWAY_TCP_APPLICATION_PORT but the axon listens on $axon_port (AXON_PORT)."
  fi
  if [ -n "$external_ip" ]; then
    set -- --axon.external_ip "$external_ip" "$@"
  fi
  export NODE_OPTIONS="${NODE_OPTIONS---max-semi-space-size=2 --max-old-space-size=96 --v8-pool-size=1}"
  set -- miner --netuid "$netuid" --wallet.name "$WALLET_NAME" --wallet.hotkey "$HOTKEY_NAME" \
    --axon.port "$axon_port" --axon.external_port "${external_port:-$axon_port}" "$@"
else
  export NODE_OPTIONS="${NODE_OPTIONS---max-semi-space-size=4 --max-old-space-size=192}"
  set -- validator --netuid "$netuid" --wallet.name "$WALLET_NAME" --wallet.hotkey "$HOTKEY_NAME" \
    --neuron.axon_off "$@"
fi
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX-2}"
log "starting: hs58 $* (${HS58_BIN:-node $HS58_MAIN})"
if [ -n "${HS58_BIN:-}" ]; then
  set -- "$HS58_BIN" "$@"
else
  set -- node "$HS58_MAIN" "$@"
fi

# --- run and restart ---------------------------------------------------------------------
delay=$BACKOFF_INITIAL
while :; do
  started=$(date +%s)
  run_child "$@"
  ran=$(($(date +%s) - started))
  [ -z "$stop_signal" ] || stop_now
  case $run_status in
    0)
      log "hs58 $NEURON_TYPE exited with status 0; stopped."
      exit 0
      ;;
    "$EXIT_SELF_UPDATE")
      log "hs58 $NEURON_TYPE exited with status $EXIT_SELF_UPDATE (self-update); restarting now."
      delay=$BACKOFF_INITIAL
      continue
      ;;
  esac
  if [ "$ran" -ge "$BACKOFF_RESET_AFTER" ]; then delay=$BACKOFF_INITIAL; fi
  log "hs58 $NEURON_TYPE exited with status $run_status after ${ran}s; restarting in ${delay}s."
  pause "$delay"
  [ -z "$stop_signal" ] || stop_now
  delay=$((delay * 2))
  if [ "$delay" -gt "$BACKOFF_MAX" ]; then delay=$BACKOFF_MAX; fi
done
