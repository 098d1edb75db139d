#!/usr/bin/env bash
# GET /api/models with 1,000 repositories of 50 files each: requests/s under concurrent clients
# (wrk), for this build and for a baseline binary (another build of the hub, e.g. main's before
# the listing became one query), on copies of one data folder, in the same run. Rounds
# alternate baseline and candidate; the medians and their ratio are printed.
# Usage: bench/hub/models_list.sh BASELINE_BINARY [CANDIDATE_BINARY]
#   env: REPOS (1000), FILES (50), CONNECTIONS (64), SECONDS_EACH (20), ROUNDS (3),
#        DATA (a data folder this script filled before, kept with KEEP_DATA=DIR: skips the setup)
# Needs wrk and curl (scripts/install-deps.sh --bench) and /usr/bin/python3 (setup requests).
set -euo pipefail
BASE=$(realpath "${1:?usage: models_list.sh BASELINE_BINARY [CANDIDATE_BINARY]}")
CAND=$(realpath "${2:-build/lightvault}")
REPOS=${REPOS:-1000}
FILES=${FILES:-50}
CONNECTIONS=${CONNECTIONS:-64}
SECONDS_EACH=${SECONDS_EACH:-20}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d /tmp/lvbench-models.XXXXXX)
TOKEN=lvt_bench_admin_token_0123456789abcdef
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
for tool in wrk curl; do command -v $tool >/dev/null || { echo "missing $tool (scripts/install-deps.sh --bench)" >&2; exit 1; }; done

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start BINARY DATA_DIR -> sets PORT and appends the pid to PIDS
start() {
  PORT=$(free_port)
  LIGHTVAULT_ADMIN_TOKEN=$TOKEN "$1" serve --data "$2" --listen 127.0.0.1:$PORT --quiet >"$2.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/whoami-v2" && return 0; sleep 0.1; done
  echo "hub did not start: $(cat "$2.log")" >&2
  exit 1
}
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  PIDS=()
}

# One data folder, filled through the API by the candidate: each repository gets one small
# uploaded blob and one commit naming it under FILES paths (a commit may name the same bytes
# many times), so the catalog holds REPOS x FILES file rows.
if [ -n "${DATA:-}" ]; then
  cp -a "$DATA" "$WORK/data"
else
start "$CAND" "$WORK/data"
echo "setup: $REPOS repositories x $FILES files through http://127.0.0.1:$PORT ..."
/usr/bin/python3 "$(dirname "$0")/fill_hub.py" "$PORT" "$TOKEN" "$REPOS" "$FILES"
stop_all
[ -n "${KEEP_DATA:-}" ] && cp -a "$WORK/data" "$KEEP_DATA"
fi
cp -a "$WORK/data" "$WORK/data-base"
cp -a "$WORK/data" "$WORK/data-cand"

check() {  # the listing holds every repository with its head
  local n
  n=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1/api/models" |
      /usr/bin/python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(1 for x in m if x["sha"]))')
  [ "$n" = "$REPOS" ] || { echo "listing on port $1 has $n repositories with a head, expected $REPOS" >&2; exit 1; }
}
# A request of a slow server waits behind the others for the catalog: wrk's timeout is long
# enough that those still count (a timed-out request would not).
rps() {
  wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_EACH}s" --timeout 120s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1/api/models" 2>&1 |
    awk '/Requests\/sec/ { print $2 } /Non-2xx|Socket errors/ { print > "/dev/stderr" }'
}
start "$BASE" "$WORK/data-base"; BASE_PORT=$PORT
start "$CAND" "$WORK/data-cand"; CAND_PORT=$PORT
check "$BASE_PORT"
check "$CAND_PORT"
BASE_RUNS=() CAND_RUNS=()
for r in $(seq "$ROUNDS"); do
  # Only one server is measured at a time; the other sits idle.
  b=$(rps "$BASE_PORT"); c=$(rps "$CAND_PORT")
  echo "round $r: baseline $b requests/s, candidate $c requests/s"
  BASE_RUNS+=("$b") CAND_RUNS+=("$c")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
MB=$(median "${BASE_RUNS[@]}"); MC=$(median "${CAND_RUNS[@]}")
echo "GET /api/models, $REPOS repositories x $FILES files, $CONNECTIONS connections, ${SECONDS_EACH} s x $ROUNDS rounds (medians):"
echo "  baseline  ($BASE): $MB requests/s"
echo "  candidate ($CAND): $MC requests/s"
awk -v b="$MB" -v c="$MC" 'BEGIN { printf "  ratio: %.1fx (target >= 5x)\n", c / b }'
