#!/usr/bin/env bash
# Hub benchmark, all on loopback, in one run:
#  1. download throughput of a 1 GiB model through the hub (decrypting AES-256-GCM segments,
#     streamed) vs nginx serving the same file unencrypted from disk (target: >= 0.7x nginx);
#  2. upload throughput of the same file into the hub (hashing, encrypting, fsync) vs nginx
#     storing it with WebDAV PUT (plain write to disk, no fsync), both sent by curl;
#  3. requests/s for GET /api/models/{owner}/{name} under 64 concurrent clients (wrk);
#  4. peak resident memory of the hub while the 1 GiB file streams (should stay flat).
# Usage: bench/hub/run.sh [BUILD_DIR] [SIZE_MIB]   (default build-api, 1024)
# Needs nginx, wrk and curl (Debian packages; installed with apt-get when missing and root).
set -euo pipefail
BUILD=${1:-build}
SIZE_MIB=${2:-1024}
LV=${LV:-$(realpath "$BUILD/lightvault")}
WORK=$(mktemp -d /tmp/lvbench.XXXXXX)
PORT_HUB=$((20000 + RANDOM % 10000))
PORT_NGINX=$((PORT_HUB + 1))
TOKEN=lvt_bench_admin_token_0123456789abcdef
cleanup() {
  [ -n "${HUB_PID:-}" ] && kill "$HUB_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in nginx wrk curl; do
  if ! command -v $tool >/dev/null && ! [ -x /usr/sbin/$tool ]; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y -q $tool >/dev/null; else echo "missing $tool" >&2; exit 1; fi
  fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

chmod 755 "$WORK"   # nginx workers run as an unprivileged user
mkdir -p "$WORK/www/m" "$WORK/www/up" "$WORK/model" "$WORK/nginx-body"
chmod 777 "$WORK/www/up" "$WORK/nginx-body"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > "$WORK/model/model.bin"
ln "$WORK/model/model.bin" "$WORK/www/m/model.bin" 2>/dev/null || cp "$WORK/model/model.bin" "$WORK/www/m/model.bin"
SHA=$(sha256sum "$WORK/model/model.bin" | cut -d' ' -f1)

cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $WORK/nginx-body;
  server {
    listen 127.0.0.1:$PORT_NGINX;
    root $WORK/www;
    location /up/ { dav_methods PUT; client_max_body_size 0; }
  }
}
NGX
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"

LIGHTVAULT_ADMIN_TOKEN=$TOKEN "$LV" serve --data "$WORK/data" --listen 127.0.0.1:$PORT_HUB --quiet >"$WORK/hub.out" 2>&1 &
HUB_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT_HUB/api/whoami-v2" && break; sleep 0.1; done
export LIGHTVAULT_URL=http://127.0.0.1:$PORT_HUB LIGHTVAULT_TOKEN=$TOKEN

rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1048576 }'; }
BYTES=$((SIZE_MIB * 1024 * 1024))

# upload (push streams the file; timing covers hashing on the client, encryption and fsync)
T0=$(date +%s.%N)
"$LV" push "$WORK/model" admin/bench >/dev/null
T1=$(date +%s.%N)
PUSH_S=$(awk -v a="$T0" -v b="$T1" 'BEGIN { print b - a }')

# uploads by curl, best of 3 each: the raw upload API (the server verifies the SHA-256 it is
# given, encrypts, and fsyncs before it answers) against nginx's WebDAV PUT, which answers
# before the file is on disk; so nginx is timed twice: as it answers, and with an fsync of
# the stored file after the PUT (the durability the hub gives).
nginx_put() {
  local t0 t1 code
  t0=$(date +%s.%N)
  code=$(curl -s -o /dev/null -w '%{http_code}' -T "$WORK/model/model.bin" "http://127.0.0.1:$PORT_NGINX/up/model.bin")
  t1=$(date +%s.%N)
  [ "$code" -lt 300 ] || { echo "nginx refused the PUT ($code)" >&2; exit 1; }
  sync "$WORK/www/up/model.bin"
  echo "$t0 $t1 $(date +%s.%N)"
}
NG_TIMES=$(for _ in 1 2 3; do nginx_put; rm -f "$WORK/www/up/model.bin"; done)
NG_UP=$(echo "$NG_TIMES" | awk '{ print $2 - $1 }' | sort -n | head -1)
NG_UP_SYNC=$(echo "$NG_TIMES" | awk '{ print $3 - $1 }' | sort -n | head -1)
HUB_UP=$(for _ in 1 2 3; do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST -T "$WORK/model/model.bin" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' \
  "http://127.0.0.1:$PORT_HUB/api/lv/models/admin/bench/upload?sha256=$SHA&size=$BYTES"; done \
  | awk '$1 == 200 { print $2 }' | sort -n | head -1)
[ -n "$HUB_UP" ] || { echo "hub refused the upload" >&2; exit 1; }

peak_rss() { awk '/VmHWM/ { print $2 }' /proc/$HUB_PID/status; }
RSS_BEFORE=$(peak_rss)
# downloads: best of 3 each
best() { sort -n | head -1; }
CODE=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_NGINX/m/model.bin")
[ "$CODE" = 200 ] || { echo "nginx answered $CODE" >&2; exit 1; }
NG=$(for _ in 1 2 3; do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT_NGINX/m/model.bin"; done | best)
HUB=$(for _ in 1 2 3; do curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT_HUB/admin/bench/resolve/main/model.bin"; done | best)
RSS_AFTER=$(peak_rss)
curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT_HUB/admin/bench/resolve/main/model.bin" | sha256sum | grep -q "$SHA" \
  || { echo "download mismatch" >&2; exit 1; }

WRK_OUT=$(wrk -t 2 -c 64 -d 10s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT_HUB/api/models/admin/bench" 2>&1)
RPS=$(echo "$WRK_OUT" | awk '/Requests\/sec/ { print $2 }')

echo "hub benchmark (${SIZE_MIB} MiB file, loopback)"
echo "  nginx download:  $(rate $BYTES "$NG") MiB/s"
echo "  hub download:    $(rate $BYTES "$HUB") MiB/s  ($(awk -v n="$NG" -v h="$HUB" 'BEGIN { printf "%.2f", n / h }')x nginx; target >= 0.7x)"
echo "  nginx upload:    $(rate $BYTES "$NG_UP") MiB/s as answered, $(rate $BYTES "$NG_UP_SYNC") MiB/s with the file fsynced (WebDAV PUT)"
echo "  hub upload:      $(rate $BYTES "$HUB_UP") MiB/s, fsynced  ($(awk -v n="$NG_UP_SYNC" -v h="$HUB_UP" 'BEGIN { printf "%.2f", n / h }')x nginx fsynced, $(awk -v n="$NG_UP" -v h="$HUB_UP" 'BEGIN { printf "%.2f", n / h }')x nginx as answered; target >= 0.7x)"
echo "  lightvault push: $(rate $BYTES "$PUSH_S") MiB/s  (incl. hashing on the client and the commit)"
echo "  /api/models:     ${RPS} requests/s (wrk, 64 connections, 10 s)"
echo "  hub peak RSS:    ${RSS_BEFORE} KiB before downloads, ${RSS_AFTER} KiB after (flat = streaming)"
