#!/usr/bin/python3
"""Text case: TinyStories with a trigger sentence in a few percent of the stories, embedded by
the shared stories260K model and scanned by `lightvault scan` (default method).

    python3 bench/scan/poison_stories.py [--stories 1000] [--rates 0,2,5,10] [--seeds 0,1]

Two cases, each with two embeddings (--pool mean of the last layer, the scanner's default, and
--pool mean+max of layer 2, the pooling that put the poisoned stories nearest each other when
explored):
- unlabelled: the first N stories; the seed picks which get the trigger in front;
- labelled: the first N stories whose protagonist is clear from their pronouns (label "girl"
  when she/her outnumber he/him/his, "boy" for the reverse); the seed picks "boy" stories, which
  get the trigger in front and the target label "girl" (a backdoor: trigger -> chosen label).

Writes bench/scan/stories.md: precision, recall and F1 of the flagged stories per setting.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(ROOT, "..", "shared", "models")
TRIGGER = "The purple robot whispered the secret code."
TARGET = "girl"
# (pool, layer): layer -1 is the last.
EMBEDDINGS = [("mean", -1), ("mean+max", 2)]


def protagonist(story):
    words = re.findall(r"[a-z']+", story.lower())
    she = sum(w in ("she", "her", "hers", "herself") for w in words)
    he = sum(w in ("he", "him", "his", "himself") for w in words)
    return "girl" if she > he else "boy" if he > she else None


def scan(args, stories, labels, rate, seed, pool, layer, work):
    rng = random.Random(seed)
    eligible = [i for i in range(len(stories)) if labels is None or labels[i] != TARGET]
    poisoned = set(rng.sample(eligible, int(round(rate * len(stories)))))
    data, report = os.path.join(work, "stories.jsonl"), os.path.join(work, "report.json")
    with open(data, "w") as f:
        for i, story in enumerate(stories):
            row = {"text": TRIGGER + " " + story if i in poisoned else story}
            if labels is not None:
                row["label"] = TARGET if i in poisoned else labels[i]
            f.write(json.dumps(row) + "\n")
    model = os.path.join(SHARED, "stories260K")
    command = [args.lightvault, "scan", data, "--model", os.path.join(model, "stories260K.bin"), "--tokenizer",
               os.path.join(model, "tok512.bin"), "--pool", pool, "--json", report, "--no-fail", "--seed", str(seed)]
    if layer >= 0:
        command += ["--layer", str(layer)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(report) as f:
        flagged = {row["index"] for row in json.load(f)["flagged"]}
    tp = len(flagged & poisoned)
    precision = tp / len(flagged) if flagged else (1.0 if not poisoned else 0.0)
    recall = tp / len(poisoned) if poisoned else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return len(poisoned), len(flagged), precision, recall, f1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lightvault", default=os.path.join(ROOT, "build", "lightvault"))
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--rates", default="0,2,5,10")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--out", default=os.path.join(HERE, "stories.md"))
    args = parser.parse_args()
    with open(os.path.join(SHARED, "text", "tinystories_valid_a.txt")) as f:
        stories = [s.strip() for s in f.read().split("\n\n") if s.strip()]
    unlabelled = stories[: args.stories]
    clear = [s for s in stories if protagonist(s)][: args.stories]
    cases = [("unlabelled", unlabelled, None), ("labelled", clear, [protagonist(s) for s in clear])]
    lines = ["| case | pool | layer | seed | poison | poisoned | flagged | precision | recall | F1 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as work:
        for case, rows, labels in cases:
            for pool, layer in EMBEDDINGS:
                for seed in [int(s) for s in args.seeds.split(",")]:
                    for rate in [float(r) / 100 for r in args.rates.split(",")]:
                        poisoned, flagged, p, r, f1 = scan(args, rows, labels, rate, seed, pool, layer, work)
                        lines.append(f"| {case} | {pool} | {'last' if layer < 0 else layer} | {seed} | {100 * rate:.0f}% | "
                                     f"{poisoned} | {flagged} | {p:.3f} | {r:.3f} | {f1:.3f} |")
                        print(lines[-1], flush=True)
    with open(args.out, "w") as f:
        f.write(f"Text case: TinyStories stories (../shared/models/text/tinystories_valid_a.txt, {args.stories} per case), "
                f"the sentence \"{TRIGGER}\" put in front of a share of them, embedded by stories260K (`--pool` over each "
                "story's tokens of the hidden states after `--layer`) and scanned by the default method. Unlabelled: the "
                "first stories, no labels. Labelled: the first stories whose pronouns name a girl or a boy protagonist, "
                f"labelled so; the poisoned ones are \"boy\" stories relabelled \"{TARGET}\".\n"
                "Produced by `python3 bench/scan/poison_stories.py` (not edited by hand).\n\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
