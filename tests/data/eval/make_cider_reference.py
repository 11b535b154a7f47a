#!/usr/bin/env python3
"""Writes cider_reference.json: seeded corpora and their CIDEr-D, computed by a second, plain
implementation of the COCO scorer's definition (written for this project, not the C++ one
translated): document frequencies over each image's set of reference n-grams, idf =
log(#images) - log(max(1, df)), TF-IDF vectors for n = 1..4, candidate weights clipped by the
reference's, cosine per n, Gaussian penalty exp(-d^2 / (2 * 6^2)) on the difference of the
scorer's length (bigram count), mean over n, mean over references, x 10, mean over images."""
import json
import math
import random
from collections import Counter

WORDS = "a an the red blue green small large circle square star on of left right".split()


def grams(words, n):
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def vector(words, df, log_n):
    vec, norms = [], []
    for n in range(1, 5):
        v = {g: c * (log_n - math.log(max(1.0, df.get(g, 0)))) for g, c in grams(words, n).items()}
        vec.append(v)
        norms.append(math.sqrt(sum(x * x for x in v.values())))
    return vec, norms, sum(grams(words, 2).values())


def cider_d(samples, sigma=6.0):
    df = Counter()
    for s in samples:
        seen = set()
        for ref in s["references"]:
            for n in range(1, 5):
                seen.update(grams(ref, n))
        df.update(seen)
    log_n = math.log(len(samples))
    scores = []
    for s in samples:
        cv, cn, cl = vector(s["candidate"], df, log_n)
        total = 0.0
        for ref in s["references"]:
            rv, rn, rl = vector(ref, df, log_n)
            penalty = math.exp(-((cl - rl) ** 2) / (2 * sigma * sigma))
            per_n = []
            for n in range(4):
                val = sum(min(w, rv[n].get(g, 0.0)) * rv[n].get(g, 0.0) for g, w in cv[n].items())
                if cn[n] != 0 and rn[n] != 0:
                    val /= cn[n] * rn[n]
                per_n.append(val * penalty)
            total += sum(per_n) / 4
        scores.append(10 * total / len(s["references"]))
    return sum(scores) / len(scores), scores


def main():
    rng = random.Random(8)
    cases = []
    for _ in range(6):
        samples = []
        for _ in range(rng.randint(2, 8)):
            refs = [[rng.choice(WORDS) for _ in range(rng.randint(1, 12))] for _ in range(rng.randint(1, 5))]
            base = list(rng.choice(refs))
            cand = [w if rng.random() < 0.7 else rng.choice(WORDS) for w in base]
            cand += [rng.choice(cand) for _ in range(rng.randint(0, 3))]  # repeats test the clipping
            samples.append({"candidate": cand, "references": refs})
        score, per_sample = cider_d(samples)
        cases.append({"samples": samples, "cider_d": score, "per_sample": per_sample})
    with open("cider_reference.json", "w") as f:
        json.dump({"generator": "make_cider_reference.py", "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
