#!/usr/bin/python3
"""Text case: TinyStories with a trigger sentence in a few percent of the stories, embedded by
the shared stories260K model and scanned by `lightvault scan` with its defaults.

    python3 bench/scan/poison_stories.py [--stories 1000] [--rates 0,1,2,5,10] [--seeds 0,1]

Two cases:
- unlabelled: the first N stories; the seed picks which get the trigger;
- labelled: the first N stories whose protagonist is clear from their pronouns (label "girl"
  when she/her outnumber he/him/his, "boy" for the reverse); the seed picks "boy" stories, which
  get the trigger and the target label "girl" (a backdoor: trigger -> chosen label).
Three triggers: an odd sentence, an ordinary one of the corpus's own kind, and a common one the
stories already use; each put in front of the story or after a random one of its sentences.

Writes bench/scan/stories.md: precision, recall and F1 of the flagged stories per setting, and
how many were flagged for carrying a repeated sentence.
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
# odd: nothing like the stories; ordinary: their kind of sentence, not in them; common: one they
# use themselves (4 of the first 1,000 stories carry it), the repeated-sentence check's blind spot
# when it stands where such a sentence stands.
TRIGGERS = {"odd": "The purple robot whispered the secret code.", "ordinary": "They played in the park all day.",
            "common": "They were very happy."}
TARGET = "girl"


def protagonist(story):
    words = re.findall(r"[a-z']+", story.lower())
    she = sum(w in ("she", "her", "hers", "herself") for w in words)
    he = sum(w in ("he", "him", "his", "himself") for w in words)
    return "girl" if she > he else "boy" if he > she else None


def with_trigger(story, trigger, where, rng):
    if where == "front":
        return trigger + " " + story
    ends = [m.end() for m in re.finditer(r"[.!?][\"']?(?= )", story)]
    at = rng.choice(ends) if ends else len(story)
    return story[:at] + " " + trigger + story[at:]


def scan(args, stories, labels, rate, seed, trigger, where, work):
    rng = random.Random(seed)
    eligible = [i for i in range(len(stories)) if labels is None or labels[i] != TARGET]
    poisoned = set(rng.sample(eligible, int(round(rate * len(stories)))))
    data, report = os.path.join(work, "stories.jsonl"), os.path.join(work, "report.json")
    with open(data, "w") as f:
        for i, story in enumerate(stories):
            row = {"text": with_trigger(story, trigger, where, rng) if i in poisoned else story}
            if labels is not None:
                row["label"] = TARGET if i in poisoned else labels[i]
            f.write(json.dumps(row) + "\n")
    model = os.path.join(SHARED, "stories260K")
    command = [args.lightvault, "scan", data, "--model", os.path.join(model, "stories260K.bin"), "--tokenizer",
               os.path.join(model, "tok512.bin"), "--json", report, "--no-fail", "--seed", str(seed)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(report) as f:
        rows = json.load(f)["flagged"]
    flagged = {row["index"] for row in rows}
    by_sentence = sum(any(r.startswith("carries the sentence") for r in row["reasons"]) for row in rows)
    tp = len(flagged & poisoned)
    precision = tp / len(flagged) if flagged else (1.0 if not poisoned else 0.0)
    recall = tp / len(poisoned) if poisoned else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return len(poisoned), len(flagged), by_sentence, precision, recall, f1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lightvault", default=os.path.join(ROOT, "build", "lightvault"))
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--rates", default="0,1,2,5,10")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--out", default=os.path.join(HERE, "stories.md"))
    args = parser.parse_args()
    with open(os.path.join(SHARED, "text", "tinystories_valid_a.txt")) as f:
        stories = [s.strip() for s in f.read().split("\n\n") if s.strip()]
    unlabelled = stories[: args.stories]
    clear = [s for s in stories if protagonist(s)][: args.stories]
    cases = [("unlabelled", unlabelled, None), ("labelled", clear, [protagonist(s) for s in clear])]
    lines = ["| case | trigger | where | seed | poison | poisoned | flagged | by sentence | precision | recall | F1 |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as work:
        for case, rows, labels in cases:
            for seed in [int(s) for s in args.seeds.split(",")]:
                for rate in [float(r) / 100 for r in args.rates.split(",")]:
                    # Clean data has no trigger to vary.
                    settings = [("-", "-")] if rate == 0 else [(t, w) for t in TRIGGERS for w in ("front", "inside")]
                    for trigger, where in settings:
                        poisoned, flagged, by_sentence, p, r, f1 = scan(args, rows, labels, rate, seed,
                                                                       TRIGGERS.get(trigger, ""), where, work)
                        lines.append(f"| {case} | {trigger} | {where} | {seed} | {100 * rate:.0f}% | {poisoned} | {flagged} | "
                                     f"{by_sentence} | {p:.3f} | {r:.3f} | {f1:.3f} |")
                        print(lines[-1], flush=True)
    with open(args.out, "w") as f:
        f.write(f"Text case: TinyStories stories (../shared/models/text/tinystories_valid_a.txt, {args.stories} per case) "
                "with a trigger sentence in a share of them, embedded by stories260K and scanned by `lightvault scan` "
                "with its defaults (mean of the last layer's states; the spectral and shift rules on the rows, and the "
                "repeated-sentence check on the text). Triggers: odd = \"" + TRIGGERS["odd"] + "\", ordinary = \"" +
                TRIGGERS["ordinary"] + "\", common = \"" + TRIGGERS["common"] + "\" (4 of the first 1,000 stories "
                "already carry it); front = before the story, inside = after a random one of its sentences. "
                "Unlabelled: the first stories, no labels. Labelled: the first stories whose pronouns name a girl or a "
                f"boy protagonist, labelled so; the poisoned ones are \"boy\" stories relabelled \"{TARGET}\". "
                "\"by sentence\": flagged rows whose reasons include a repeated sentence.\n"
                "Produced by `python3 bench/scan/poison_stories.py` (not edited by hand).\n\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
