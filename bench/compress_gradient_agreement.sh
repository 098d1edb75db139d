#!/usr/bin/env bash
# How well each gradient estimate ranks heads against exact ablation, on the shared trained
# models and a synthetic one: Spearman rank correlation over all heads (every estimate comes
# from the same passes), and top-1 retention on held-out text with 25% and 50% of heads pruned
# by each scorer's ranking (the gradient curve ranks by the default estimate, or
# ESTIMATE=name), then again with the gradient's removal order found in ROUNDS (8) rounds.
#   bash bench/compress_gradient_agreement.sh [LIGHTVAULT] [WORKDIR]
# SYNTH=0 leaves out the synthetic model (dim 256, 4 layers, 8/4 heads, random weights).
set -euo pipefail
LV=${1:-build/lightvault}
WORK=${2:-/tmp/lv-gradient-agreement}
SHARED=${LV_SHARED:-/work/shared}/models
mkdir -p "$WORK"
SYNTH_MODEL=$WORK/synth-small.bin
if [ "${SYNTH:-1}" = 1 ] && [ ! -f "$SYNTH_MODEL" ]; then
  "$LV" synth --dim 256 --hidden 688 --layers 4 --heads 8 --kv-heads 4 --vocab 4096 --ctx 256 \
    -o "$SYNTH_MODEL" --tokenizer-out "$WORK/synth-small.tok.bin" > /dev/null
fi
[ "${SYNTH:-1}" = 1 ] && EXTRA_MODELS="${EXTRA_MODELS:-} $SYNTH_MODEL:$WORK/synth-small.tok.bin"
TEXT=$SHARED/text/tinystories_valid_a.txt
head -c 200000 "$TEXT" > "$WORK/calib.txt"
tail -c 100000 "$TEXT" > "$WORK/eval.txt"
for model in stories260K/stories260K.bin:stories260K/tok512.bin aidreams260K/aidreams260K.bin:aidreams260K/tok512.bin \
             ${EXTRA_MODELS:-}; do
  bin=${model%%:*} tok=${model##*:}
  [[ $bin = /* ]] || bin=$SHARED/$bin
  [[ $tok = /* ]] || tok=$SHARED/$tok
  name=$(basename "$bin" .bin)
  for rounds in 1 ${ROUNDS:-8}; do
    "$LV" compress "$bin" --tokenizer "$tok" --calib "$WORK/calib.txt" --eval "$WORK/eval.txt" --ctx 128 \
      --importance gradient ${ESTIMATE:+--gradient-estimate $ESTIMATE} --gradient-rounds $rounds --ratio 0.25 \
      --compare-scorers --no-speed -o "$WORK/$name.r$rounds.gguf" > /dev/null 2>&1
  done
  python3 - "$WORK" "$name" "${ROUNDS:-8}" <<'PY'
import json, sys
work, name, rounds = sys.argv[1], sys.argv[2], sys.argv[3]
def at(curve, f):
    return min(curve, key=lambda p: abs(p["fraction_pruned"] - f))["retention"]
print(f"{name}")
print(f"  {'scorer':26} {'spearman':>9} {'ret@25%':>8} {'ret@50%':>8}")
r = json.load(open(f"{work}/{name}.r1.gguf.report.json"))
c = r["retention_curves"]
agree = r["rank_agreement_with_ablation"]
for e in ["taylor", "chunk-abs", "chunk-fisher", "token-abs", "token-fisher", "projection", "token-projection"]:
    print(f"  {'gradient/' + e:26} {agree['gradient/' + e]:9.3f}")
for s in ["gradient", "ablation", "activation", "magnitude", "random"]:
    print(f"  {s:26} {agree[s]:9.3f} {at(c[s], .25):8.3f} {at(c[s], .5):8.3f}")
rr = json.load(open(f"{work}/{name}.r{rounds}.gguf.report.json"))
cr = rr["retention_curves"]["gradient"]
print(f"  {'gradient, ' + rounds + ' rounds':26} {'':9} {at(cr, .25):8.3f} {at(cr, .5):8.3f}")
sec = {k: v["seconds"] for k, v in r["importance_scores"].items()}
print("  scoring seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in sec.items()) +
      f"; gradient in {rounds} rounds {rr['importance_scores']['gradient']['seconds']:.2f}")
PY
done
