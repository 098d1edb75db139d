#!/usr/bin/env bash
# `compress --importance gradient` on a Llama-2-7B-shaped Q8_0 file (dim 4096, hidden 11008,
# 32 layers, 32 heads, vocab 32000; 7.2 GB): the default calibration (16 chunks of 128
# tokens), a quarter of the heads pruned, Q8_0 kept (--quant block32), 4 evaluation chunks.
# Prints each step's time, the run's peak RSS (/usr/bin/time -v; mapped weights included) and
# the load before and after, and the CPU seconds used (on a shared machine the wall time is
# mostly waiting; user + system seconds / 2 approximates the wall time on 2 idle cores). Judged: scoring under 15 minutes, the whole run under 45, peak
# memory under 20 GiB, on 2 cores.
#   bash bench/compress_7b.sh [LIGHTVAULT] [WORKDIR]
#   MODEL (the 7B file; written by `lightvault synth` when missing), CALIB_CHUNKS (16),
#   EVAL_CHUNKS (4), NICE (10; 0 when timing on a quiet machine)
set -euo pipefail
LV=${1:-build/lightvault}
WORK=${2:-/tmp/lv-compress-7b}
MODEL=${MODEL:-/work/bench7b/llama7b-synth.q8_0.gguf}
CALIB_CHUNKS=${CALIB_CHUNKS:-16}
EVAL_CHUNKS=${EVAL_CHUNKS:-4}
NICE=${NICE:-10}
TEXT=${LV_SHARED:-/work/shared}/models/text/tinystories_valid_a.txt
mkdir -p "$WORK"
if [ ! -f "$MODEL" ]; then
  "$LV" synth --dim 4096 --hidden 11008 --layers 32 --heads 32 --kv-heads 32 --vocab 32000 --ctx 4096 \
    --type q8_0 -o "$MODEL"
fi
head -c 200000 "$TEXT" > "$WORK/calib.txt"
tail -c 100000 "$TEXT" > "$WORK/eval.txt"
echo "load before: $(uptime)"
nice -n "$NICE" /usr/bin/time -v "$LV" compress "$MODEL" --calib "$WORK/calib.txt" --eval "$WORK/eval.txt" \
  --calib-chunks "$CALIB_CHUNKS" --eval-chunks "$EVAL_CHUNKS" --ratio 0.25 --importance gradient --quant block32 \
  --no-speed -o "$WORK/7b.pruned.gguf" > "$WORK/run.log" 2>&1 || { tail -20 "$WORK/run.log"; exit 1; }
echo "load after: $(uptime)"
sed -n '/^time taken/,/^peak memory/p' "$WORK/run.log"
grep -E 'Maximum resident set size|Elapsed \(wall|Percent of CPU|User time|System time' "$WORK/run.log"
grep -E '^ *(perplexity|top-1|attention heads|file size)' "$WORK/run.log" || true
