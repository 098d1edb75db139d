#!/usr/bin/env bash
# The web interface's pages with 1,000 repositories of 50 files each: 50th and 95th percentile
# response times on loopback of the repository page (/{owner}/{name}: the model card rendered,
# files, latest commit; the card's view is audited) and of the home page (every model the viewer
# may see), requested with a browser session at 1, 8 and 64 concurrent connections (wrk), beside
# nginx serving a static copy of the same page, in the same run. Each round measures hub and
# nginx in turn for every page and connection count; the medians over the rounds are printed
# with the hub/nginx ratio of the p95. Target: repository page p95 under 20 ms.
# Usage: bench/hub/pages.sh [BINARY]   (default build/lightvault)
#   env: REPOS (1000), FILES (50), CONNECTIONS ("1 8 64"), SECONDS_EACH (10), ROUNDS (3),
#        DATA (a data folder this script filled before, kept with KEEP_DATA=DIR: skips the setup)
# Needs nginx, wrk and curl (scripts/install-deps.sh --bench) and /usr/bin/python3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LV=$(realpath "${1:-build/lightvault}")
REPOS=${REPOS:-1000}
FILES=${FILES:-50}
CONNECTIONS=${CONNECTIONS:-"1 8 64"}
SECONDS_EACH=${SECONDS_EACH:-10}
ROUNDS=${ROUNDS:-3}
REPO=admin/model-$(printf '%04d' $((REPOS / 2)))
WORK=$(mktemp -d /tmp/lvbench-pages.XXXXXX)
TOKEN=lvt_bench_admin_token_0123456789abcdef
HUB_PID=""
cleanup() {
  [ -n "$HUB_PID" ] && kill "$HUB_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for tool in wrk curl; do command -v $tool >/dev/null || { echo "missing $tool (scripts/install-deps.sh --bench)" >&2; exit 1; }; done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "missing nginx (scripts/install-deps.sh --bench)" >&2; exit 1; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_hub() {
  PORT=$(free_port)
  LIGHTVAULT_ADMIN_TOKEN=$TOKEN "$LV" serve --data "$WORK/data" --listen 127.0.0.1:$PORT --quiet >"$WORK/hub.log" 2>&1 &
  HUB_PID=$!
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/whoami-v2" && return 0; sleep 0.1; done
  echo "hub did not start: $(cat "$WORK/hub.log")" >&2
  exit 1
}

if [ -n "${DATA:-}" ]; then
  cp -a "$DATA" "$WORK/data"
  start_hub
else
  start_hub
  echo "setup: $REPOS repositories x $FILES files and a model card through http://127.0.0.1:$PORT ..."
  /usr/bin/python3 "$HERE/fill_hub.py" "$PORT" "$TOKEN" "$REPOS" "$FILES" --card "$HERE/card.md"
  if [ -n "${KEEP_DATA:-}" ]; then
    kill "$HUB_PID"; wait "$HUB_PID" 2>/dev/null || true
    cp -a "$WORK/data" "$KEEP_DATA"
    start_hub
  fi
fi
HUB=http://127.0.0.1:$PORT

# Signed in through the form, as a browser is: the session cookie is what every page request sends.
SESSION=$(/usr/bin/python3 - "$PORT" "$TOKEN" <<'PY'
import http.client, re, sys, urllib.parse
port, token = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", "/login"); r = c.getresponse(); html = r.read().decode()
login = re.search(r"lv_login=([0-9a-f]+)", r.getheader("Set-Cookie")).group(1)
csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)
body = urllib.parse.urlencode({"csrf": csrf, "token": token})
c.request("POST", "/login", body=body, headers={"Cookie": "lv_login=" + login,
          "Content-Type": "application/x-www-form-urlencoded"})
r = c.getresponse(); r.read()
m = re.search(r"lv_session=([0-9a-f]+)", r.getheader("Set-Cookie") or "")
if r.status != 303 or not m: sys.exit(f"sign-in failed: {r.status}")
print(m.group(1))
PY
)
COOKIE="Cookie: lv_session=$SESSION"

# The static copies nginx serves: the pages exactly as the hub answered them to this session.
fetch() {  # PATH FILE: the page, checked
  local code
  code=$(curl -s -o "$2" -w '%{http_code}' -H "$COOKIE" "$HUB$1")
  [ "$code" = 200 ] || { echo "hub answered $code for $1" >&2; exit 1; }
}
mkdir -p "$WORK/www/$REPO/tree"
fetch "/$REPO" "$WORK/www/$REPO/index.html"
fetch "/$REPO/tree/main" "$WORK/www/$REPO/tree/main"
fetch "/" "$WORK/www/index.html"
grep -q 'Support summarizer' "$WORK/www/$REPO/index.html" || { echo "the repository page shows no model card" >&2; exit 1; }
grep -q "shard-$(printf '%03d' $((FILES - 1)))" "$WORK/www/$REPO/index.html" || { echo "the repository page lists no files" >&2; exit 1; }
SHOWN=$(grep -o 'href="/admin/model-[0-9]*"' "$WORK/www/index.html" | sort -u | wc -l)
[ "$SHOWN" = "$REPOS" ] || { echo "the home page links $SHOWN models, expected $REPOS" >&2; exit 1; }

chmod 755 "$WORK"  # nginx workers may run as another user
chmod -R a+rX "$WORK/www"
NGINX_PORT=$(free_port)
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/html;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/www;
    location / { try_files \$uri \$uri/index.html =404; }
  }
}
NGX
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK" -e "$WORK/nginx.err"
NG=http://127.0.0.1:$NGINX_PORT
cmp -s <(curl -s "$NG/$REPO") "$WORK/www/$REPO/index.html" || { echo "nginx does not serve the copy" >&2; exit 1; }

# measure URL CONNECTIONS -> "P50_US P95_US"
measure() {
  local threads=$(( $2 < 2 ? $2 : 2 )) out
  out=$(wrk -t "$threads" -c "$2" -d "${SECONDS_EACH}s" --timeout 30s -s "$HERE/latency.lua" -H "$COOKIE" "$1" 2>&1)
  local line; line=$(echo "$out" | grep '^p50_us=') || { echo "wrk failed: $out" >&2; exit 1; }
  local failed; failed=$(echo "$line" | sed 's/.*failed=//')
  [ "$failed" = 0 ] || { echo "$failed failed requests to $1: $line" >&2; exit 1; }
  echo "$line" | sed 's/p50_us=\([0-9]*\) p95_us=\([0-9]*\).*/\1 \2/'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A R
# The file tree shows what the repository page shows but the card: no README read, no audit entry.
PAGES=("repo:/$REPO" "tree:/$REPO/tree/main" "home:/")
for r in $(seq "$ROUNDS"); do
  for p in "${PAGES[@]}"; do
    name=${p%%:*} path=${p#*:}
    for c in $CONNECTIONS; do
      read -r hp50 hp95 < <(measure "$HUB$path" "$c")
      read -r np50 np95 < <(measure "$NG$path" "$c")
      echo "round $r $name c=$c: hub p50 $hp50 us p95 $hp95 us; nginx p50 $np50 us p95 $np95 us"
      R[$name,$c,hub50]+=" $hp50"; R[$name,$c,hub95]+=" $hp95"
      R[$name,$c,ng50]+=" $np50"; R[$name,$c,ng95]+=" $np95"
    done
  done
done

ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
echo
echo "web pages, $REPOS repositories x $FILES files, signed-in session, loopback, ${SECONDS_EACH} s x $ROUNDS rounds (medians, ms)"
echo "  page $REPO: $(wc -c < "$WORK/www/$REPO/index.html") bytes; its tree: $(wc -c < "$WORK/www/$REPO/tree/main") bytes; home page: $(wc -c < "$WORK/www/index.html") bytes"
printf '  %-5s %5s %9s %9s %11s %11s %12s\n' page conns "hub p50" "hub p95" "nginx p50" "nginx p95" "p95 ratio"
for p in "${PAGES[@]}"; do
  name=${p%%:*}
  for c in $CONNECTIONS; do
    # shellcheck disable=SC2086
    h50=$(median ${R[$name,$c,hub50]}); h95=$(median ${R[$name,$c,hub95]})
    # shellcheck disable=SC2086
    n50=$(median ${R[$name,$c,ng50]}); n95=$(median ${R[$name,$c,ng95]})
    printf '  %-5s %5s %9s %9s %11s %11s %11sx\n' "$name" "$c" "$(ms "$h50")" "$(ms "$h95")" "$(ms "$n50")" "$(ms "$n95")" \
      "$(awk -v h="$h95" -v n="$n95" 'BEGIN { printf "%.1f", h / n }')"
  done
done
echo "  target: repository page p95 under 20 ms"
