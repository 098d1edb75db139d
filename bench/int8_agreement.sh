#!/usr/bin/env bash
# Where INT8 loses top-1 agreement with F32 on the shared pretrained models: `compress
# --quant` as written (weights and activations int8; ffn_down stays F32 in the GGUF file, its
# 172-long rows being no multiple of 32), the same file dequantized back to F32 (weight
# rounding alone with float activations: the best any activation scheme could do), and one
# group at a time left in float (--keep-float); F16 weights show what a small error costs.
# Held-out text: the last 40 kB of tinystories_valid_a.txt; ctx 128.
#
#   bash bench/int8_agreement.sh        (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
LV=${BUILD:-build}/lightvault
SHARED=../shared/models
OUT=$(mktemp -d /tmp/lv-int8.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
tail -c 40000 "$SHARED/text/tinystories_valid_a.txt" > "$OUT/eval.txt"

agreement() {  # MODEL REFERENCE -> "agreement% KL"
  "$LV" eval "$1" --text "$OUT/eval.txt" --ctx 128 --reference "$2" --json |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print("%6.2f%%  %.6f" % (100*r["top1_agreement"], r["mean_kl_divergence"]))'
}

printf '%-14s %-9s %-34s %8s  %s\n' model quant variant agreement "KL (nats)"
for m in stories260K aidreams260K; do
  [ -f "$SHARED/$m/$m.bin" ] || continue
  ref="$OUT/$m.f32.gguf"
  "$LV" convert "$SHARED/$m/$m.bin" --tokenizer "$SHARED/$m/tok512.bin" -o "$ref" --type f32 >/dev/null
  "$LV" convert "$ref" -o "$OUT/$m.f16.gguf" --type f16 >/dev/null
  printf '%-14s %-9s %-34s %s\n' "$m" f16 "f16 weights" "$(agreement "$OUT/$m.f16.gguf" "$ref")"
  for q in channel block32; do
    for keep in "" attention ffn classifier; do
      out="$OUT/$m.$q.${keep:-all}.gguf"
      "$LV" compress "$ref" -o "$out" --quant "$q" --no-speed ${keep:+--keep-float $keep} >/dev/null
      printf '%-14s %-9s %-34s %s\n' "$m" "$q" "$(if [ -n "$keep" ]; then echo "$keep in float"; else echo "as written"; fi)" "$(agreement "$out" "$ref")"
    done
    "$LV" convert "$OUT/$m.$q.all.gguf" -o "$OUT/$m.$q.dequant.gguf" --type f32 >/dev/null
    printf '%-14s %-9s %-34s %s\n' "$m" "$q" "int8 weights, float activations" "$(agreement "$OUT/$m.$q.dequant.gguf" "$ref")"
  done
done
