#!/usr/bin/env bash
# How well each gradient estimate ranks heads against exact ablation, on the shared trained
# models: Spearman rank correlation over all heads (every estimate comes from the same pass),
# and top-1 retention on held-out text with 25% and 50% of heads pruned by each scorer's
# ranking (the gradient curve ranks by the default estimate, or ESTIMATE=name).
#   bash bench/compress_gradient_agreement.sh [LIGHTVAULT] [WORKDIR]
set -euo pipefail
LV=${1:-build/lightvault}
WORK=${2:-/tmp/lv-gradient-agreement}
SHARED=${LV_SHARED:-/work/shared}/models
mkdir -p "$WORK"
TEXT=$SHARED/text/tinystories_valid_a.txt
head -c 200000 "$TEXT" > "$WORK/calib.txt"
tail -c 100000 "$TEXT" > "$WORK/eval.txt"
for model in stories260K/stories260K.bin:stories260K/tok512.bin aidreams260K/aidreams260K.bin:aidreams260K/tok512.bin \
             ${EXTRA_MODELS:-}; do
  bin=${model%%:*} tok=${model##*:}
  [[ $bin = /* ]] || bin=$SHARED/$bin
  [[ $tok = /* ]] || tok=$SHARED/$tok
  name=$(basename "$bin" .bin)
  "$LV" compress "$bin" --tokenizer "$tok" --calib "$WORK/calib.txt" --eval "$WORK/eval.txt" --ctx 128 \
    --importance gradient ${ESTIMATE:+--gradient-estimate $ESTIMATE} --ratio 0.25 --compare-scorers --no-speed \
    -o "$WORK/$name.gguf" > /dev/null 2>&1
  python3 - "$WORK" "$name" <<'PY'
import json, sys
work, name = sys.argv[1], sys.argv[2]
def at(curve, f):
    return min(curve, key=lambda p: abs(p["fraction_pruned"] - f))["retention"]
print(f"{name}")
print(f"  {'scorer':26} {'spearman':>9} {'ret@25%':>8} {'ret@50%':>8}")
r = json.load(open(f"{work}/{name}.gguf.report.json"))
c = r["retention_curves"]
for e in ["taylor", "chunk-abs", "chunk-fisher", "token-abs", "token-fisher", "projection"]:
    print(f"  {'gradient/' + e:26} {r['rank_agreement_with_ablation']['gradient/' + e]:9.3f}")
for s in ["gradient", "ablation", "activation", "magnitude", "random"]:
    print(f"  {s:26} {r['rank_agreement_with_ablation'][s]:9.3f} {at(c[s], .25):8.3f} {at(c[s], .5):8.3f}")
sec = {k: v["seconds"] for k, v in r["importance_scores"].items()}
print("  scoring seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in sec.items()))
PY
done
