#!/usr/bin/python3
"""Text case: TinyStories with a trigger sentence in a few percent of the stories, embedded by
the shared stories260K model (mean of the last layer's hidden states), scanned without labels.

    python3 bench/scan/poison_stories.py [--stories 400] [--rate 0.05]
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lightvault", default=os.path.join(ROOT, "build", "lightvault"))
    parser.add_argument("--stories", type=int, default=400)
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with open(os.path.join(SHARED, "text", "tinystories_valid_a.txt")) as f:
        stories = [s.strip() for s in f.read().split("\n\n") if s.strip()][: args.stories]
    rng = random.Random(args.seed)
    poisoned = set(rng.sample(range(len(stories)), int(round(args.rate * len(stories)))))
    with tempfile.TemporaryDirectory() as work:
        data, report = os.path.join(work, "stories.jsonl"), os.path.join(work, "report.json")
        with open(data, "w") as f:
            for i, story in enumerate(stories):
                f.write(json.dumps({"text": TRIGGER + " " + story if i in poisoned else story}) + "\n")
        model = os.path.join(SHARED, "stories260K")
        subprocess.run([args.lightvault, "scan", data, "--model", os.path.join(model, "stories260K.bin"), "--tokenizer",
                        os.path.join(model, "tok512.bin"), "--json", report, "--no-fail", "--seed", str(args.seed)], check=True)
        with open(report) as f:
            flagged = {row["index"] for row in json.load(f)["flagged"]}
    tp = len(flagged & poisoned)
    precision = tp / len(flagged) if flagged else 0.0
    recall = tp / len(poisoned) if poisoned else 1.0
    print(f"stories {len(stories)}, poisoned {len(poisoned)}, flagged {len(flagged)}, precision {precision:.3f}, recall {recall:.3f}")


if __name__ == "__main__":
    sys.exit(main())
