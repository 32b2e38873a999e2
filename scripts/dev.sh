#!/usr/bin/env bash
# make dev: the local DynamoDB server and `dg dev` (the Dagster UI and daemon) together, so that
# `nephos simulate --live` (in another terminal) drives the change sensor and the schedules.
#
#   PATH=.venv/bin:$PATH bash scripts/dev.sh
#
# Settings (environment):
#   NEPHOS_HOME            state folder (default ./.nephos): DynamoDB snapshot, warehouse, Dagster home
#   NEPHOS_DYNAMODB_PORT   local DynamoDB port on 127.0.0.1 (default 8765)
#   DAGSTER_PORT           Dagster UI port on 127.0.0.1 (default 3000)
#   NEPHOS_DYNAMODB_WAIT   seconds to wait for DynamoDB to restore its snapshot (default 120)
#   NEPHOS_STOP_GRACE      seconds Dagster and DynamoDB get to stop before SIGKILL (default 8)
#
# Why it is shaped like this:
# - DynamoDB first, and only its "export NEPHOS_DYNAMODB_ENDPOINT_URL=..." line counts as
#   ready: it is printed after the snapshot is restored and the tables exist, so the
#   sensor's first tick never sees a half-restored table.
# - `set -m` gives each child its own process group. Without it bash starts background
#   children with SIGINT ignored, and `dagster dev` maps SIGTERM onto its SIGINT handler,
#   so it could then not be stopped gracefully. Ctrl-C / SIGTERM reach this script (the
#   Makefile `exec`s it, and make passes a SIGTERM on to its child), whose trap stops both
#   within $NEPHOS_STOP_GRACE seconds: on SIGTERM DynamoDB saves what changed.
set -euo pipefail
set -m

cd "$(dirname "$0")/.."

NEPHOS_HOME="${NEPHOS_HOME:-./.nephos}"
mkdir -p "$NEPHOS_HOME"
NEPHOS_HOME="$(cd "$NEPHOS_HOME" && pwd)"  # absolute: every Dagster process must agree on it
export NEPHOS_HOME
export DAGSTER_HOME="$NEPHOS_HOME/dagster"
export PYTHONUNBUFFERED=1
DYNAMODB_PORT="${NEPHOS_DYNAMODB_PORT:-8765}"
DAGSTER_PORT="${DAGSTER_PORT:-3000}"
LOG_DIR="$NEPHOS_HOME/logs"
DYNAMODB_LOG="$LOG_DIR/dynamodb.log"
mkdir -p "$LOG_DIR" "$DAGSTER_HOME"

# Same instance as `nephos demo` and `nephos backfill` (one settings file for all three).
if [ ! -f "$DAGSTER_HOME/dagster.yaml" ]; then
    cp "$(dirname "$0")/../nephos_pipeline/orchestration/local_dagster.yaml" "$DAGSTER_HOME/dagster.yaml"
fi

# `python -c "$DEFAULT_SIGINT" cmd...` execs cmd with SIGINT at its default disposition (same
# pid, so $! is cmd's). A script started with SIGINT ignored (`make dev &`, nohup, CI) passes
# that on to its children; `dagster dev` would then ignore SIGTERM too, since it maps SIGTERM
# onto whatever its SIGINT handler is.
DEFAULT_SIGINT='import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])'

ddb_pid=""
dagster_pid=""

# Stop both children at once (SIGTERM), wait up to $STOP_GRACE seconds, then SIGKILL what is
# left of their process groups. Dagster stops its webserver, daemon and code server; the
# local DynamoDB saves only what changed since its last autosave (about a second), so both
# are done well inside the grace period and `make dev` after `make dev` keeps the data.
STOP_GRACE="${NEPHOS_STOP_GRACE:-8}"
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

cleanup() {
    trap - EXIT INT TERM
    if ! alive "$ddb_pid" && ! alive "$dagster_pid"; then
        return 0
    fi
    echo
    echo "dev.sh: stopping dg dev and the local DynamoDB (it saves what changed)..."
    for pid in $dagster_pid $ddb_pid; do kill -TERM "$pid" 2>/dev/null || true; done
    local deadline=$((SECONDS + STOP_GRACE))
    while { alive "$dagster_pid" || alive "$ddb_pid"; } && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
    done
    local name pid
    for name in dagster ddb; do
        if [ "$name" = dagster ]; then pid="$dagster_pid"; else pid="$ddb_pid"; fi
        if alive "$pid"; then
            echo "dev.sh: $name (pid $pid) still running after ${STOP_GRACE}s; killing its process group" >&2
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
        [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
    done
    # Dagster's code server and webserver children live in dagster dev's process group.
    [ -n "$dagster_pid" ] && kill -TERM -- "-$dagster_pid" 2>/dev/null || true
    tail -n 1 "$DYNAMODB_LOG" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "dev.sh: NEPHOS_HOME=$NEPHOS_HOME"
nephos dynamodb --port "$DYNAMODB_PORT" --home "$NEPHOS_HOME" </dev/null >"$DYNAMODB_LOG" 2>&1 &
ddb_pid=$!

deadline=$((SECONDS + ${NEPHOS_DYNAMODB_WAIT:-120}))
endpoint=""
while [ -z "$endpoint" ]; do
    if ! kill -0 "$ddb_pid" 2>/dev/null; then
        echo "dev.sh: nephos dynamodb exited:" >&2
        cat "$DYNAMODB_LOG" >&2
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "dev.sh: local DynamoDB not ready after ${NEPHOS_DYNAMODB_WAIT:-120}s (log: $DYNAMODB_LOG)" >&2
        exit 1
    fi
    sleep 0.5
    endpoint="$(sed -n 's/^export NEPHOS_DYNAMODB_ENDPOINT_URL=//p' "$DYNAMODB_LOG")"
done
export NEPHOS_DYNAMODB_ENDPOINT_URL="$endpoint"
sed 's/^/  dynamodb: /' "$DYNAMODB_LOG"

echo "dev.sh: Dagster UI on http://127.0.0.1:$DAGSTER_PORT (DAGSTER_HOME=$DAGSTER_HOME); Ctrl-C stops both."
echo "dev.sh: live data, in another terminal: NEPHOS_DYNAMODB_ENDPOINT_URL=$endpoint nephos simulate --live --days 0"
echo "        (fast-forward with --speed 60 --end <a few hours ago>: see docs/ui-walkthrough.md)"
# `dg dev` (what Dagster recommends over `dagster dev`) reads the project from pyproject.toml
# ([tool.dg]); VIRTUAL_ENV tells it the venv on PATH is the project's own.
VIRTUAL_ENV="$(cd "$(dirname "$(command -v python)")/.." && pwd)" \
    python -c "$DEFAULT_SIGINT" dg dev -h 127.0.0.1 -p "$DAGSTER_PORT" </dev/null &
dagster_pid=$!
status=0
wait "$dagster_pid" || status=$?
dagster_pid=""
echo "dev.sh: dg dev exited with status $status" >&2
exit "$status"
