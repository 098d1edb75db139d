#!/usr/bin/python3
"""Detection benchmark of `lightvault scan` on BadNets-style poisoned digits.

For each poison rate, a 3x3 checker trigger is stamped in the bottom-right corner of randomly
chosen digits of other classes, which are relabelled to the target class. Each setting is
scanned on the raw pixels and on the hidden activations of an MLPClassifier trained on the
poisoned data. Printed and written to bench/scan/detection.md: precision, recall and F1 of the
flagged rows for each lightvault method and the default, beside re-implementations of IBM ART's
SpectralSignatureDefense and ActivationDefence with their defaults, and scikit-learn's
SpectralClustering(n_clusters=2) with the 5% rule.

    python3 bench/scan/poison_digits.py [--lightvault build/lightvault] [--rates 0,1,3,5,10]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.decomposition import FastICA
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DIGITS = os.path.join(ROOT, "..", "shared", "data", "digits.csv.gz")
TARGET = 0
TRIGGER = np.array([[16, 0, 16], [0, 16, 0], [16, 0, 16]], dtype=np.float64)


def load_digits():
    with gzip.open(DIGITS, "rt") as f:
        rows = np.loadtxt(f, delimiter=",")
    return rows[:, :64], rows[:, 64].astype(int)


def poison(x, y, rate, seed):
    rng = np.random.default_rng(seed)
    count = int(round(rate * len(y)))
    candidates = np.flatnonzero(y != TARGET)
    chosen = np.sort(rng.choice(candidates, size=count, replace=False))
    x, y = x.copy(), y.copy()
    images = x.reshape(-1, 8, 8)
    images[chosen, 5:8, 5:8] = TRIGGER
    y[chosen] = TARGET
    truth = np.zeros(len(y), dtype=bool)
    truth[chosen] = True
    return images.reshape(-1, 64), y, truth


def hidden_activations(x, y, seed):
    mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=500, random_state=seed)
    mlp.fit(x / 16.0, y)
    return np.maximum(0.0, (x / 16.0) @ mlp.coefs_[0] + mlp.intercepts_[0])


def art_spectral_signature(r, y, expected_pp_poison=0.33, eps_multiplier=1.5):
    """ART SpectralSignatureDefense.detect_poison with its defaults (per class)."""
    flags = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        matrix_r = r[idx]
        matrix_m = matrix_r - matrix_r.mean(axis=0)
        _, _, v = np.linalg.svd(matrix_m, full_matrices=False)
        corrs = v[:1] @ matrix_r.T  # ART projects the uncentred rows
        score = np.linalg.norm(corrs, axis=0)
        cutoff = np.quantile(score, max(1 - eps_multiplier * expected_pp_poison, 0.0))
        flags[idx[score >= cutoff]] = True
    return flags


def art_activation_clustering(r, y, seed, nb_dims=10, size_threshold=0.35):
    """ART ActivationDefence: FastICA to 10 dims, KMeans(2), 'smaller' analysis (< 35%)."""
    flags = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        reduced = FastICA(n_components=nb_dims, max_iter=1000, tol=0.005, random_state=seed).fit_transform(r[idx])
        assignment = KMeans(n_clusters=2, n_init=10, random_state=seed).fit_predict(reduced)
        sizes = np.bincount(assignment, minlength=2) / len(idx)
        for cluster in range(2):
            if sizes[cluster] < size_threshold:
                flags[idx[assignment == cluster]] = True
    return flags


def sklearn_spectral_5pct(r, seed):
    assignment = SpectralClustering(n_clusters=2, affinity="nearest_neighbors", n_neighbors=10,
                                    random_state=seed).fit_predict(r)
    sizes = np.bincount(assignment, minlength=2) / len(assignment)
    return np.isin(assignment, np.flatnonzero(sizes < 0.05))


def lightvault(binary, path, labels_path, method, seed, workdir):
    out = os.path.join(workdir, "report.json")
    cmd = [binary, "scan", path, "--method", method, "--seed", str(seed), "--json", out, "--no-fail"]
    cmd += ["--labels", labels_path] if labels_path else ["--label-column", "-1"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        report = json.load(f)
    flags = np.zeros(report["n"], dtype=bool)
    flags[[row["index"] for row in report["flagged"]]] = True
    return flags


def scores(flags, truth):
    tp = int(np.sum(flags & truth))
    precision = tp / flags.sum() if flags.sum() else (1.0 if truth.sum() == 0 else 0.0)
    recall = tp / truth.sum() if truth.sum() else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, 100.0 * flags.mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lightvault", default=os.path.join(ROOT, "build", "lightvault"))
    parser.add_argument("--rates", default="0,1,3,5,10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(HERE, "detection.md"))
    args = parser.parse_args()
    x, y = load_digits()
    lines = ["| features | poison | method | precision | recall | F1 | flagged % |", "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as workdir:
        for rate in [float(r) / 100 for r in args.rates.split(",")]:
            px, py, truth = poison(x, y, rate, args.seed)
            for features in ("pixels", "activations"):
                r = px if features == "pixels" else hidden_activations(px, py, args.seed)
                data = os.path.join(workdir, "data.npy")
                labels = os.path.join(workdir, "labels.txt")
                np.save(data, r.astype(np.float32))
                np.savetxt(labels, py, fmt="%d")
                results = {}
                for method in ("all", "spectral", "signature", "activation"):
                    name = "lightvault " + ("default" if method == "all" else method)
                    results[name] = lightvault(args.lightvault, data, labels, method, args.seed, workdir)
                results["ART spectral signature"] = art_spectral_signature(r, py)
                results["ART activation clustering"] = art_activation_clustering(r, py, args.seed)
                results["sklearn SpectralClustering(2) + 5% rule"] = sklearn_spectral_5pct(r, args.seed)
                for name, flags in results.items():
                    p, rc, f1, share = scores(flags, truth)
                    line = f"| {features} | {100 * rate:.0f}% | {name} | {p:.3f} | {rc:.3f} | {f1:.3f} | {share:.1f} |"
                    lines.append(line)
                    print(line, flush=True)
    with open(args.out, "w") as f:
        f.write("Detection on BadNets-poisoned digits (target class %d, 3x3 checker trigger), seed %d.\n"
                "Produced by `python3 bench/scan/poison_digits.py`.\n\n" % (TARGET, args.seed))
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
