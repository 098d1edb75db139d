#!/usr/bin/env bash
# Speed and memory of our runtime against llama.cpp on the same GGUF files with the same
# threads, measured in one run: the two programs take turns, round after round, and the
# medians of each and of the per-round ratios are reported (the machines are shared and
# noisy: read the ratios).
#
#   LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin bash bench/run.sh [--quick] [--model FILE]...
#       [--7b FILE]
#
#   --model FILE  bench FILE (repeatable) instead of the models below
#   --7b FILE     also (it takes minutes) the per-token decode latency and time to first token
#                 for a 16-token prompt on FILE, a 7B-class GGUF such as one written by
#                 `lightvault synth --dim 4096 --hidden 11008 --layers 32 --heads 32
#                 --kv-heads 32 --vocab 32000 --type q8_0`
#   --quick       a smaller synthetic model
# Environment: THREADS (default: every CPU), PP (128), TG (64), ROUNDS (5; 0 runs only --7b),
# BIG_ROUNDS (2), BIG_TG (16), BUSY=1 to run one busy process per core beside both programs.
#
# llama.cpp is a peer built beside the project, never part of it; without LLAMA_CPP_BIN only
# our figures are printed. Models are written to bench/out/ (ignored by git):
#   - a synthetic model of a realistic shape (~0.5 B parameters: dim 1536, 16 layers,
#     12 heads / 4 KV heads, FFN 4096, vocab 32000), F32 and Q8_0;
#   - the shared pretrained models, converted by `lightvault convert`, when present.
set -euo pipefail
# The comparison is "out of the box": neither program gets OpenMP or GNU OpenMP tuning from
# the caller's environment (GOMP_SPINCOUNT alone changes our decode speed by half). Threads
# are passed to both on the command line.
for v in $(env | sed -n 's/^\(G\{0,1\}OMP_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LV=$BUILD/lightvault
OUT=bench/out
THREADS=${THREADS:-$(nproc)}
PP=${PP:-128}
TG=${TG:-64}
ROUNDS=${ROUNDS:-5}
BIG_ROUNDS=${BIG_ROUNDS:-2}
BIG_PROMPT=16
BIG_TG=${BIG_TG:-16}
mkdir -p "$OUT"

shape=(--dim 1536 --hidden 4096 --layers 16 --heads 12 --kv-heads 4 --vocab 32000 --ctx 2048)
models=()
big=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) shape=(--dim 512 --hidden 1376 --layers 8 --heads 8 --kv-heads 4 --vocab 32000 --ctx 1024) ;;
    --model) models+=("${2:?--model needs a file}"); shift ;;
    --7b) big="${2:?--7b needs a file}"; shift ;;
    *) echo "usage: bench/run.sh [--quick] [--model FILE]... [--7b FILE]" >&2; exit 2 ;;
  esac
  shift
done
for m in "${models[@]}" $big; do
  [ -f "$m" ] || { echo "error: $m: no such file" >&2; exit 2; }
done

if [ ${#models[@]} -eq 0 ] && [ "$ROUNDS" -gt 0 ]; then
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
fi

if [ "${BUSY:-0}" = 1 ]; then
  busy=()
  for _ in $(seq "$(nproc)"); do (while :; do :; done) & busy+=($!); done
  trap 'kill "${busy[@]}" 2>/dev/null' EXIT
fi

# One round of one model: our bench and llama-bench, one repetition each, in the order given
# by $3 (the order alternates between rounds so that a drifting machine favours neither);
# appends one JSON line of both results to $4.
measure() {
  local m=$1 pp=$2 order=$3 out=$4 tg=$5 ours peer="[]"
  run_ours() { ours=$("$LV" bench "$m" -t "$THREADS" --pp "$pp" --tg "$tg" --reps 1 --json); }
  run_peer() {
    [ -n "${LLAMA_CPP_BIN:-}" ] || return 0
    peer=$("$LLAMA_CPP_BIN/llama-bench" -m "$m" -t "$THREADS" -p "$pp" -n "$tg" -r 1 -o json 2>/dev/null)
  }
  if [ "$order" = 0 ]; then run_ours; run_peer; else run_peer; run_ours; fi
  python3 -c '
import json, sys
o, p = json.loads(sys.argv[2]), json.loads(sys.argv[3])
ts = lambda key: ([x["avg_ts"] for x in p if x[key] > 0] or [None])[0]
print(json.dumps(dict(model=sys.argv[1], pp=o["pp_tokens_per_second"], tg=o["tg_tokens_per_second"],
                      rss=o["peak_rss_bytes"], llama_pp=ts("n_prompt"), llama_tg=ts("n_gen"))))
' "$m" "$ours" "$peer" >> "$out"
}

# Medians per model over the rounds in $1; $2 = "speed" (tokens/s) or "latency" (7B: ms per
# decoded token, time to first token of the $3-token prompt). Ratios are per round (ours
# against llama.cpp measured next to it), then the median; > 1 means we are faster.
summarize() {
  python3 -c '
import json, statistics, sys
rounds, kind, prompt = [json.loads(l) for l in open(sys.argv[1])], sys.argv[2], int(sys.argv[3])
med = lambda xs: statistics.median(xs) if xs else None
f = lambda v, d=1: "-" if v is None else "%.*f" % (d, v)
rng = lambda xs: "" if not xs else "(%.2f-%.2f)" % (min(xs), max(xs))
models = list(dict.fromkeys(r["model"] for r in rounds))
row = "%-26s %8s %8s %5s %-11s %8s %8s %5s %-11s %7s"
if kind == "speed":
    print(row % ("model", "pp t/s", "llama", "pp x", "(min-max)", "tg t/s", "llama", "tg x", "(min-max)", "RSS MiB"))
for m in models:
    rs = [r for r in rounds if r["model"] == m]
    peer = [r for r in rs if r["llama_pp"] and r["llama_tg"]]
    if kind == "speed":
        s = dict(model=m, rounds=len(rs), pp=med([r["pp"] for r in rs]), tg=med([r["tg"] for r in rs]),
                 llama_pp=med([r["llama_pp"] for r in peer]), llama_tg=med([r["llama_tg"] for r in peer]),
                 pp_ratios=[r["pp"] / r["llama_pp"] for r in peer], tg_ratios=[r["tg"] / r["llama_tg"] for r in peer],
                 peak_rss_bytes=max(r["rss"] for r in rs))
        s.update(pp_ratio=med(s["pp_ratios"]), tg_ratio=med(s["tg_ratios"]))
        print(row % (m.split("/")[-1][:26], f(s["pp"]), f(s["llama_pp"]), f(s["pp_ratio"], 2), rng(s["pp_ratios"]),
              f(s["tg"]), f(s["llama_tg"]), f(s["tg_ratio"], 2), rng(s["tg_ratios"]), "%.0f" % (s["peak_rss_bytes"] / 2**20)))
    else:
        ms, ttft = (lambda r: 1000.0 / r["tg"]), (lambda r: 1000.0 * prompt / r["pp"])
        lms, lttft = (lambda r: 1000.0 / r["llama_tg"]), (lambda r: 1000.0 * prompt / r["llama_pp"])
        s = dict(model=m, rounds=len(rs), prompt_tokens=prompt, ms_per_token=med([ms(r) for r in rs]),
                 ttft_ms=med([ttft(r) for r in rs]), llama_ms_per_token=med([lms(r) for r in peer]),
                 llama_ttft_ms=med([lttft(r) for r in peer]),
                 decode_ratios=[lms(r) / ms(r) for r in peer], ttft_ratios=[lttft(r) / ttft(r) for r in peer],
                 peak_rss_bytes=max(r["rss"] for r in rs))
        s.update(decode_ratio=med(s["decode_ratios"]), ttft_ratio=med(s["ttft_ratios"]))
        print("%s (%d rounds, %d-token prompt)" % (m, len(rs), prompt))
        print("  decode ms/token: ours %s, llama.cpp %s, speed x %s %s" % (f(s["ms_per_token"]),
              f(s["llama_ms_per_token"]), f(s["decode_ratio"], 2), rng(s["decode_ratios"])))
        print("  time to first token ms: ours %s, llama.cpp %s, speed x %s %s" % (f(s["ttft_ms"]),
              f(s["llama_ttft_ms"]), f(s["ttft_ratio"], 2), rng(s["ttft_ratios"])))
        print("  peak RSS: ours %.0f MiB" % (s["peak_rss_bytes"] / 2**20))
    print(json.dumps(s), file=open(sys.argv[4], "a"))
' "$1" "$2" "$3" "$4"
}

rounds="$OUT/rounds.jsonl"
results="$OUT/results.jsonl"
: > "$rounds"
: > "$results"
for round in $(seq "$ROUNDS"); do
  echo "bench: round $round of $ROUNDS" >&2
  for m in "${models[@]}"; do measure "$m" "$PP" $((round % 2)) "$rounds" "$TG"; done
done
if [ "$ROUNDS" -gt 0 ]; then
  summarize "$rounds" speed "$PP" "$results"
  echo "threads: $THREADS, cores: $(nproc), rounds: $ROUNDS, pp $PP, tg $TG${BUSY:+, busy=$BUSY}"
fi

if [ -n "$big" ]; then
  big_rounds="$OUT/rounds-7b.jsonl"
  : > "$big_rounds"
  for round in $(seq "$BIG_ROUNDS"); do
    echo "bench: 7B round $round of $BIG_ROUNDS" >&2
    measure "$big" "$BIG_PROMPT" $((round % 2)) "$big_rounds" "$BIG_TG"
  done
  summarize "$big_rounds" latency "$BIG_PROMPT" "$results"
  echo "7B: threads $THREADS, decode over $BIG_TG tokens; time to first token = prefill of the prompt"
fi
echo "results: $results, per round: $rounds${big:+ and $OUT/rounds-7b.jsonl}"
