#!/usr/bin/env python3
"""Writes bleu_reference.json: small seeded corpora and their corpus BLEU-1..4 by NLTK 3.8
(Debian's python3-nltk), an independent implementation of the same definition as the COCO
scorer (clipped corpus n-gram counts, closest reference length with ties to the shorter,
brevity penalty). Every corpus has at least one match at every n, where both agree exactly
(the COCO scorer's 1e-15/1e-9 smoothing aside) as long as no candidate is shorter than 4 words. Run: /usr/bin/python3 make_bleu_reference.py"""
import json
import random

from nltk.translate.bleu_score import corpus_bleu

WORDS = "a an the red blue green small large circle square star triangle on of left right top".split()


def corpus(rng, sentences):
    samples = []
    for _ in range(sentences):
        refs = [[rng.choice(WORDS) for _ in range(rng.randint(3, 12))] for _ in range(rng.randint(1, 4))]
        base = list(rng.choice(refs))
        base += [rng.choice(WORDS) for _ in range(max(0, 4 - len(base)))]
        cand = [w if rng.random() < 0.75 else rng.choice(WORDS) for w in base]
        cut = rng.randint(0, 3)
        # At least 4 words: NLTK counts a candidate without n-grams of length n as 1 in the
        # denominator (max(1, count)) where the COCO scorer counts 0.
        cand = cand[: max(4, len(cand) - cut)] + [rng.choice(WORDS) for _ in range(rng.randint(0, 2))]
        samples.append({"candidate": cand, "references": refs})
    return samples


def main():
    rng = random.Random(8)
    cases = []
    while len(cases) < 6:
        samples = corpus(rng, rng.randint(2, 8))
        hyps = [s["candidate"] for s in samples]
        refs = [s["references"] for s in samples]
        weights = [(1.0,), (0.5, 0.5), (1 / 3, 1 / 3, 1 / 3), (0.25, 0.25, 0.25, 0.25)]
        bleu = [corpus_bleu(refs, hyps, weights=w) for w in weights]
        if min(bleu) <= 0:
            continue  # a precision of 0 somewhere: NLTK returns 0, the COCO scorer a tiny number
        cases.append({"samples": samples, "bleu": bleu})
    with open("bleu_reference.json", "w") as f:
        json.dump({"generator": "make_bleu_reference.py, nltk 3.8", "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
