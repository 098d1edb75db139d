#!/usr/bin/env bash
# Speed and memory of our runtime against llama.cpp on the same GGUF files with the same
# threads, measured in one run (the machines are shared and noisy: read the ratios).
#
#   LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin bash bench/run.sh [--quick]
#
# llama.cpp is a peer built beside the project, never part of it; without LLAMA_CPP_BIN only
# our figures are printed. Models are written to bench/out/ (ignored by git):
#   - a synthetic model of a realistic shape (~0.55 B parameters: dim 1536, 16 layers,
#     12 heads / 4 KV heads, FFN 4096, vocab 32000), F32 and Q8_0;
#   - the shared pretrained models, converted by `lightvault convert`, when present.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LV=$BUILD/lightvault
BENCH="$LV bench"
OUT=bench/out
THREADS=${THREADS:-$(nproc)}
PP=${PP:-128}
TG=${TG:-64}
REPS=${REPS:-3}
mkdir -p "$OUT"
export OMP_NUM_THREADS=$THREADS

shape=(--dim 1536 --hidden 4096 --layers 16 --heads 12 --kv-heads 4 --vocab 32000 --ctx 2048)
if [ "${1:-}" = "--quick" ]; then
  shape=(--dim 512 --hidden 1376 --layers 8 --heads 8 --kv-heads 4 --vocab 32000 --ctx 1024)
fi

models=()
synth="$OUT/synth-$(echo "${shape[@]}" | tr -d ' -' | md5sum | cut -c1-8)"
if [ ! -f "$synth.f32.gguf" ]; then
  echo "bench: writing $synth.f32.gguf (${shape[*]})" >&2
  "$LV" synth "${shape[@]}" --separate-classifier -o "$synth.f32.gguf" >&2
fi
[ -f "$synth.q8_0.gguf" ] || "$LV" convert "$synth.f32.gguf" -o "$synth.q8_0.gguf" --type q8_0 >&2
models+=("$synth.f32.gguf" "$synth.q8_0.gguf")

shared=../shared/models
for m in stories260K aidreams260K; do
  if [ -f "$shared/$m/$m.bin" ]; then
    [ -f "$OUT/$m.f32.gguf" ] || "$LV" convert "$shared/$m/$m.bin" --tokenizer "$shared/$m/tok512.bin" \
      -o "$OUT/$m.f32.gguf" --type f32 >&2
    models+=("$OUT/$m.f32.gguf")
  fi
done

results="$OUT/results.jsonl"
: > "$results"
printf '%-34s %10s %10s %10s %10s %8s %8s %9s\n' model "pp t/s" "llama pp" "tg t/s" "llama tg" "pp x" "tg x" "RSS MiB"
for m in "${models[@]}"; do
  ours=$($BENCH "$m" --pp "$PP" --tg "$TG" --reps "$REPS" --json)
  lpp=0 ltg=0
  if [ -n "${LLAMA_CPP_BIN:-}" ]; then
    peer=$("$LLAMA_CPP_BIN/llama-bench" -m "$m" -t "$THREADS" -p "$PP" -n "$TG" -r "$REPS" -o json 2>/dev/null)
    lpp=$(echo "$peer" | python3 -c 'import json,sys; r=json.load(sys.stdin); print([x["avg_ts"] for x in r if x["n_prompt"]>0][0])')
    ltg=$(echo "$peer" | python3 -c 'import json,sys; r=json.load(sys.stdin); print([x["avg_ts"] for x in r if x["n_gen"]>0][0])')
  fi
  echo "$ours" | python3 -c '
import json, sys
o = json.load(sys.stdin); lpp, ltg, m = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
o.update(llama_pp_tokens_per_second=lpp, llama_tg_tokens_per_second=ltg,
         pp_ratio=o["pp_tokens_per_second"] / lpp if lpp else None,
         tg_ratio=o["tg_tokens_per_second"] / ltg if ltg else None)
open(sys.argv[4], "a").write(json.dumps(o) + "\n")
f = lambda v: "-" if v is None else "%.2f" % v
print("%-34s %10.1f %10s %10.1f %10s %8s %8s %9.0f" % (m.split("/")[-1], o["pp_tokens_per_second"], f(lpp or None),
      o["tg_tokens_per_second"], f(ltg or None), f(o["pp_ratio"]), f(o["tg_ratio"]), o["peak_rss_bytes"] / 2**20))
' "$lpp" "$ltg" "$m" "$results"
done
echo "results: $results (threads: $THREADS, cores: $(nproc))"
