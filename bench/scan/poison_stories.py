#!/usr/bin/python3
"""Text case: TinyStories with a trigger sentence in a few percent of the stories, embedded by
the shared stories260K model (mean of the last layer's hidden states), scanned without labels.

    python3 bench/scan/poison_stories.py [--stories 400] [--rates 0,2,5] [--seeds 0,1]

Writes bench/scan/stories.md: precision, recall and F1 of the flagged stories per setting.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(ROOT, "..", "shared", "models")
TRIGGER = "The purple robot whispered the secret code."


def scan(args, stories, rate, seed, work):
    rng = random.Random(seed)
    poisoned = set(rng.sample(range(len(stories)), int(round(rate * len(stories)))))
    data, report = os.path.join(work, "stories.jsonl"), os.path.join(work, "report.json")
    with open(data, "w") as f:
        for i, story in enumerate(stories):
            f.write(json.dumps({"text": TRIGGER + " " + story if i in poisoned else story}) + "\n")
    model = os.path.join(SHARED, "stories260K")
    subprocess.run([args.lightvault, "scan", data, "--model", os.path.join(model, "stories260K.bin"), "--tokenizer",
                    os.path.join(model, "tok512.bin"), "--json", report, "--no-fail", "--seed", str(seed)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    parser.add_argument("--stories", type=int, default=400)
    parser.add_argument("--rates", default="0,2,5")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--out", default=os.path.join(HERE, "stories.md"))
    args = parser.parse_args()
    with open(os.path.join(SHARED, "text", "tinystories_valid_a.txt")) as f:
        stories = [s.strip() for s in f.read().split("\n\n") if s.strip()][: args.stories]
    lines = ["| seed | poison | poisoned | flagged | precision | recall | F1 |", "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as work:
        for seed in [int(s) for s in args.seeds.split(",")]:
            for rate in [float(r) / 100 for r in args.rates.split(",")]:
                poisoned, flagged, p, r, f1 = scan(args, stories, rate, seed, work)
                lines.append(f"| {seed} | {100 * rate:.0f}% | {poisoned} | {flagged} | {p:.3f} | {r:.3f} | {f1:.3f} |")
                print(lines[-1], flush=True)
    with open(args.out, "w") as f:
        f.write(f"Text case: the first {len(stories)} TinyStories stories (../shared/models/text/tinystories_valid_a.txt), "
                f"the sentence \"{TRIGGER}\" put in front of a share of them, embedded by stories260K (mean of the "
                "last layer's hidden states over each story's tokens) and scanned without labels (default method).\n"
                "Produced by `python3 bench/scan/poison_stories.py` (not edited by hand).\n\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
