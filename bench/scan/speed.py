#!/usr/bin/python3
"""Speed, peak memory and adjusted Rand index of `lightvault scan` against scikit-learn's
SpectralClustering (affinity nearest_neighbors, the same k and number of clusters) on Gaussian
mixtures with one small cluster (3% of the rows). Each run is a fresh process, so its peak RSS
is its own.

    python3 bench/scan/speed.py [--sizes 2000,5000,10000] [--dim 64] [--no-sklearn-above N]
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLUSTERS = 5
NEIGHBOURS = 10


def mixture(n, dim, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(CLUSTERS, dim))
    small = int(0.03 * n)
    sizes = [small] + [(n - small) // (CLUSTERS - 1)] * (CLUSTERS - 1)
    sizes[-1] += n - sum(sizes)
    truth = np.repeat(np.arange(CLUSTERS), sizes)
    x = centres[truth] + rng.normal(size=(n, dim))
    order = rng.permutation(n)
    return x[order].astype(np.float32), truth[order]


SKLEARN_CHILD = """
import sys, time, resource, numpy as np
from sklearn.cluster import SpectralClustering
x = np.load(sys.argv[1])
start = time.perf_counter()
labels = SpectralClustering(n_clusters=%d, affinity="nearest_neighbors", n_neighbors=%d, random_state=0).fit_predict(x)
seconds = time.perf_counter() - start
np.savetxt(sys.argv[2], labels, fmt="%%d")
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""" % (CLUSTERS, NEIGHBOURS)

OURS_CHILD = """
import sys, time, resource, subprocess
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def measure(child, args):
    out = subprocess.run([sys.executable, "-c", child] + args, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024.0


def main():
    from sklearn.metrics import adjusted_rand_score

    parser = argparse.ArgumentParser()
    parser.add_argument("--lightvault", default=os.path.join(ROOT, "build", "lightvault"))
    parser.add_argument("--sizes", default="2000,5000,10000")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--no-sklearn-above", type=int, default=10**9)
    args = parser.parse_args()
    print("| n | dim | lightvault s | peak MiB | ARI | sklearn s | peak MiB | ARI | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for n in [int(s) for s in args.sizes.split(",")]:
            x, truth = mixture(n, args.dim, seed=n)
            data, ours, theirs = (os.path.join(work, f) for f in ("x.npy", "ours.txt", "theirs.txt"))
            np.save(data, x)
            t_ours, rss_ours = measure(OURS_CHILD, [args.lightvault, "scan", data, "--clusters", str(CLUSTERS), "--neighbors",
                                                    str(NEIGHBOURS), "--assignments", ours, "--no-fail", "--seed", "0"])
            ari_ours = adjusted_rand_score(truth, np.loadtxt(ours, dtype=int))
            row = f"| {n} | {args.dim} | {t_ours:.2f} | {rss_ours:.0f} | {ari_ours:.3f} |"
            if n <= args.no_sklearn_above:
                t_sk, rss_sk = measure(SKLEARN_CHILD, [data, theirs])
                ari_sk = adjusted_rand_score(truth, np.loadtxt(theirs, dtype=int))
                row += f" {t_sk:.2f} | {rss_sk:.0f} | {ari_sk:.3f} | {t_sk / t_ours:.1f}x |"
            else:
                row += " - | - | - | - |"
            print(row, flush=True)


if __name__ == "__main__":
    sys.exit(main())
