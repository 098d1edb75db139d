#!/usr/bin/env bash
# Head scoring at a realistic size: `compress --importance gradient` on the 0.5B synthetic
# model (dim 1536, 16 layers, 12/4 heads, F32) with the default calibration (16 chunks of 128
# tokens), the whole run timed; then one calibration chunk scored by every scorer
# (--compare-scorers: exact ablation's time for that chunk, and each scorer's rank agreement
# with it on this model).
#   bash bench/compress_gradient.sh [LIGHTVAULT] [WORKDIR]
set -euo pipefail
LV=${1:-build/lightvault}
WORK=${2:-/tmp/lv-compress-bench}
TEXT=${LV_SHARED:-/work/shared}/models/text/tinystories_valid_a.txt
mkdir -p "$WORK"
MODEL=$WORK/synth-0.5b.bin
if [ ! -f "$MODEL" ]; then
  "$LV" synth --dim 1536 --hidden 4096 --layers 16 --heads 12 --kv-heads 4 --vocab 32000 --ctx 512 \
    -o "$MODEL" --tokenizer-out "$WORK/synth-0.5b.tok.bin"
fi
# Disjoint calibration and evaluation text.
head -c 200000 "$TEXT" > "$WORK/calib.txt"
tail -c 100000 "$TEXT" > "$WORK/eval.txt"
run() {
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$LV" compress "$MODEL" --tokenizer "$WORK/synth-0.5b.tok.bin" --calib "$WORK/calib.txt" --eval "$WORK/eval.txt" \
    --ratio 0.25 --no-speed -o "$WORK/$name.gguf" "$@" | sed -n '/time taken/,/total/p'
  end=$(date +%s.%N)
  echo "$name: whole run $(echo "$end - $start" | bc) s"
}
run gradient --importance gradient --eval-chunks 16
run compare-1chunk --importance gradient --calib-chunks 1 --compare-scorers --curve-chunks 1 --eval-chunks 1
python3 - "$WORK/compare-1chunk.gguf.report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("one chunk: " + ", ".join(f"{k} {v['seconds']:.1f} s" for k, v in r["importance_scores"].items()))
print("rank agreement with ablation: " + ", ".join(f"{k} {v:.3f}" for k, v in r["rank_agreement_with_ablation"].items()))
PY
