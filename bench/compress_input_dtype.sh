#!/usr/bin/env bash
# `compress --importance gradient` on the 0.5B synthetic model (dim 1536, 16 layers, 12/4
# heads) read from GGUF files of different weight types: peak RSS (/usr/bin/time -v, mapped
# weights included) and wall time of the whole run, each type against the F32 file measured
# in the same round. Rounds alternate the types; the report gives each one's median and the
# median of the per-round ratios to F32. Default calibration (16 chunks of 128 tokens),
# 16 evaluation chunks, --quant block32 (a Q8_0 input keeps its blocks).
#   bash bench/compress_input_dtype.sh [LIGHTVAULT] [WORKDIR]
#   ROUNDS (3), TYPES ("f32 q8_0"; f16 too if wanted), CALIB_CHUNKS (16), EVAL_CHUNKS (16),
#   NICE (10; 0 when timing on a quiet machine)
set -euo pipefail
LV=${1:-build/lightvault}
WORK=${2:-/tmp/lv-compress-dtype}
ROUNDS=${ROUNDS:-3}
TYPES=${TYPES:-f32 q8_0}
NICE=${NICE:-10}
TEXT=${LV_SHARED:-/work/shared}/models/text/tinystories_valid_a.txt
mkdir -p "$WORK"
for type in $TYPES; do
  model=$WORK/synth05b.$type.gguf
  if [ ! -f "$model" ]; then
    "$LV" synth --dim 1536 --hidden 4096 --layers 16 --heads 12 --kv-heads 4 --vocab 32000 --ctx 512 \
      --type "$type" -o "$model"
  fi
done
head -c 200000 "$TEXT" > "$WORK/calib.txt"
tail -c 100000 "$TEXT" > "$WORK/eval.txt"

echo "load before: $(uptime)"
: > "$WORK/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for type in $TYPES; do
    log=$WORK/$type.round$round.log
    nice -n "$NICE" /usr/bin/time -v "$LV" compress "$WORK/synth05b.$type.gguf" --calib "$WORK/calib.txt" \
      --eval "$WORK/eval.txt" --ratio 0.25 --importance gradient --calib-chunks "${CALIB_CHUNKS:-16}" \
      --eval-chunks "${EVAL_CHUNKS:-16}" --quant block32 --no-speed \
      -o "$WORK/out.$type.gguf" > "$log" 2>&1
    rss_kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" |
      awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    scoring=$(sed -n 's/^ *scoring heads (gradient) *\([0-9.]*\) s$/\1/p' "$log")
    cpu=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { print s }' "$log")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$type" "$rss_kib" "$wall" "$scoring" "$cpu" >> "$WORK/results.tsv"
    printf 'round %s %-5s peak RSS %6.0f MiB, whole run %6.1f s (%6.1f CPU s), scoring %6.1f s\n' "$round" "$type" \
      "$(echo "$rss_kib / 1024" | bc -l)" "$wall" "$cpu" "$scoring"
  done
done
echo "load after: $(uptime)"
python3 - "$WORK/results.tsv" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
by = {}
for rnd, t, rss, wall, score, cpu in rows:
    by.setdefault(t, {})[rnd] = (float(rss) / 1024, float(wall), float(score), float(cpu))
for t, runs in by.items():
    rss, wall, score, cpu = (statistics.median(v[i] for v in runs.values()) for i in range(4))
    line = f"{t:5s} median: peak RSS {rss:7.0f} MiB, whole run {wall:6.1f} s ({cpu:.1f} CPU s), scoring {score:6.1f} s"
    if t != "f32" and "f32" in by:
        ratio = lambda i: statistics.median(runs[r][i] / by["f32"][r][i] for r in runs if r in by["f32"])
        line += (f"; vs f32 (median of per-round ratios): RSS x{ratio(0):.2f}, run x{ratio(1):.2f}, "
                 f"CPU x{ratio(3):.2f}, scoring x{ratio(2):.2f}")
    print(line)
PY
