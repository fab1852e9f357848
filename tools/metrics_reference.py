#!/usr/bin/python3
"""metrics_reference.py - expected caption scores for the fixtures of
tests/test_metrics.c, computed independently of the C code.

    /usr/bin/python3 tools/metrics_reference.py [tests/data/metrics]

Writes DIR/synth.refs and DIR/synth.cands (a larger corpus generated from a
fixed seed) and DIR/expected.tsv, one row per value:

    fixture <TAB> metric <TAB> image (or -) <TAB> value

Where the values come from:
  nltk_bleu1..4  nltk.translate.bleu_score.corpus_bleu, no smoothing
                 (Debian python3-nltk). An independent tool.
  bleu1..4       the COCO caption evaluation convention (pycocoevalcap
                 bleu_scorer.py, option "closest") written out below from its
                 definition, without COCO's 1e-15 / 1e-9 fudge terms. It equals
                 NLTK whenever every candidate has >= 4 tokens; the script
                 checks that, and prints how far COCO's fudge terms would move
                 each value.
  bleu4_one      nltk sentence_bleu with SmoothingFunction().method2 (the
                 reward form, metrics_bleu4_one).
  cider, cider_one, rouge_l, rouge_l_one, f1_one
                 straightforward dictionary implementations of the published
                 definitions (Vedantam et al. 2015 CIDEr-D as released in
                 pycocoevalcap; Lin 2004 ROUGE-L with the COCO beta = 1.2 and
                 max-over-references precision and recall), below. They are
                 written for clarity, not speed, and share nothing with
                 src/metrics.c.

Tokenization is the project's rule (src/text.h): bytes, ASCII letters
lowercased, runs of [a-z0-9] are tokens, everything else separates.
"""

import math
import os
import random
import re
import sys
import warnings
from collections import Counter

from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu, sentence_bleu

FIXTURES = ["hand", "basic", "edge", "single", "nomatch", "synth"]


def tokenize(text):
    return [t.decode().lower() for t in re.findall(rb"[A-Za-z0-9]+", text)]


def read_fixture(d, name):
    """Returns [(image, candidate tokens, [reference tokens])] in candidate order."""
    refs = {}
    with open(os.path.join(d, name + ".refs"), "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            key, cap = line.split(b"\t", 1)
            img = key.rsplit(b"#", 1)[0].decode()
            refs.setdefault(img, []).append(tokenize(cap))
    out = []
    with open(os.path.join(d, name + ".cands"), "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            img, cap = line.split(b"\t", 1)
            out.append((img.decode(), tokenize(cap), refs[img.decode()]))
    assert len(out) == len(refs), name
    return out


def ngrams(toks, n):
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


# ---- BLEU, COCO convention -------------------------------------------------

def coco_bleu(corpus, fudge=False):
    tiny, small = (1e-15, 1e-9) if fudge else (0.0, 0.0)
    c_len = r_len = 0
    match = [0] * 4
    guess = [0] * 4
    for _, cand, refs in corpus:
        c_len += len(cand)
        # closest reference length, ties to the shorter one
        r_len += min((len(r) for r in refs), key=lambda L: (abs(L - len(cand)), L))
        for n in range(1, 5):
            cc = ngrams(cand, n)
            best = Counter()
            for r in refs:
                for g, k in ngrams(r, n).items():
                    best[g] = max(best[g], k)
            match[n - 1] += sum(min(k, best[g]) for g, k in cc.items())
            guess[n - 1] += max(0, len(cand) - n + 1)
    scores = []
    for n in range(1, 5):
        prod = 1.0
        zero = False
        for k in range(n):
            if not fudge and (match[k] == 0 or guess[k] == 0):
                zero = True
                break
            prod *= (match[k] + tiny) / (guess[k] + small)
        if zero:
            scores.append(0.0)
            continue
        s = prod ** (1.0 / n)
        if fudge:
            ratio = (c_len + tiny) / (r_len + small)
            if ratio < 1:
                s *= math.exp(1 - 1 / ratio)
        else:
            s *= 1.0 if c_len > r_len else (0.0 if c_len == 0 else math.exp(1 - r_len / c_len))
        scores.append(s)
    return scores


def nltk_bleu(corpus):
    refs = [r for _, _, r in corpus]
    hyps = [c for _, c, _ in corpus]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the zero-count warning of method0
        for n in range(1, 5):
            out.append(float(corpus_bleu(refs, hyps, weights=tuple([1.0 / n] * n))))
    return out


def nltk_sentence_bleu4(cand, refs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(sentence_bleu(refs, cand, smoothing_function=SmoothingFunction().method2))


# ---- CIDEr-D ---------------------------------------------------------------

def cider_d(corpus, sigma=6.0):
    """Per-image CIDEr-D (x10) with document frequencies over the corpus refs."""
    N = len(corpus)
    df = Counter()
    for _, _, refs in corpus:
        seen = set()
        for r in refs:
            for n in range(1, 5):
                seen.update(ngrams(r, n))
        df.update(seen)

    def vec(toks):
        v = [dict() for _ in range(4)]
        for n in range(1, 5):
            for g, tf in ngrams(toks, n).items():
                v[n - 1][g] = tf * (math.log(N) - math.log(max(1.0, df[g])))
        return v

    def norm(d):
        return math.sqrt(sum(x * x for x in d.values()))

    per_image = []
    for _, cand, refs in corpus:
        vc = vec(cand)
        total = 0.0
        for r in refs:
            vr = vec(r)
            pen = math.exp(-((len(cand) - len(r)) ** 2) / (2 * sigma ** 2))
            for n in range(4):
                nc, nr = norm(vc[n]), norm(vr[n])
                if nc == 0 or nr == 0:
                    continue
                dot = sum(min(x, vr[n].get(g, 0.0)) * vr[n].get(g, 0.0) for g, x in vc[n].items())
                total += dot / (nc * nr) * pen
        per_image.append(10.0 * total / 4 / len(refs))
    return per_image


# ---- ROUGE-L and unigram F1 ------------------------------------------------

def lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table[len(a)][len(b)]


def rouge_l(cand, refs, beta=1.2):
    if not cand:
        return 0.0
    p = max(lcs(cand, r) / len(cand) for r in refs)
    r = max((lcs(cand, x) / len(x) if x else 0.0) for x in refs)
    if p == 0 or r == 0:
        return 0.0
    return (1 + beta ** 2) * p * r / (r + beta ** 2 * p)


def unigram_f1(cand, refs):
    best = 0.0
    for r in refs:
        m = sum((Counter(cand) & Counter(r)).values())
        if m == 0:
            continue
        p, rc = m / len(cand), m / len(r)
        best = max(best, 2 * p * rc / (p + rc))
    return best


# ---- the synthetic fixture -------------------------------------------------

def write_synth(d):
    """60 images, 5 references each, from a small vocabulary so that n-grams
    repeat across images (df > 1) and candidates have partial matches."""
    rng = random.Random(20261125)
    subjects = ["a man", "a woman", "a dog", "two dogs", "a child", "a girl", "the boy", "people"]
    verbs = ["runs", "is running", "sits", "is sitting", "jumps", "plays", "walks", "stands"]
    places = ["on the grass", "in the water", "on a bench", "near the road", "in a park",
              "on the beach", "in the snow", "by a tree"]
    extras = ["", "", "with a ball", "in a red shirt", "with a dog", "at night", "together"]

    def sentence():
        words = [rng.choice(subjects), rng.choice(verbs), rng.choice(places), rng.choice(extras)]
        return " ".join(w for w in words if w)

    with open(os.path.join(d, "synth.refs"), "w") as fr, open(os.path.join(d, "synth.cands"), "w") as fc:
        for i in range(60):
            refs = [sentence() for _ in range(5)]
            for k, r in enumerate(refs):
                fr.write("synth%02d.jpg#%d\t%s\n" % (i, k, r))
            cand = rng.choice(refs).split()
            # perturb: drop, duplicate or replace a few words
            for _ in range(rng.randrange(0, 4)):
                op = rng.randrange(3)
                j = rng.randrange(len(cand))
                if op == 0 and len(cand) > 2:
                    del cand[j]
                elif op == 1:
                    cand.insert(j, cand[j])
                else:
                    cand[j] = rng.choice(["cat", "ball", "red", "a", "the", "big"])
            fc.write("synth%02d.jpg\t%s\n" % (i, " ".join(cand)))


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data", "metrics")
    write_synth(d)
    rows = []
    for name in FIXTURES:
        corpus = read_fixture(d, name)
        coco = coco_bleu(corpus)
        fudge = coco_bleu(corpus, fudge=True)
        nl = nltk_bleu(corpus)
        if all(len(c) >= 4 for _, c, _ in corpus):
            for a, b in zip(coco, nl):
                assert abs(a - b) < 1e-12, (name, coco, nl)
        cid = cider_d(corpus)
        rl = [rouge_l(c, r) for _, c, r in corpus]
        for n in range(4):
            rows.append((name, "bleu%d" % (n + 1), "-", coco[n]))
            rows.append((name, "nltk_bleu%d" % (n + 1), "-", nl[n]))
        rows.append((name, "cider", "-", sum(cid) / len(cid)))
        rows.append((name, "rouge_l", "-", sum(rl) / len(rl)))
        for (img, cand, refs), c1, r1 in zip(corpus, cid, rl):
            rows.append((name, "cider_one", img, c1))
            rows.append((name, "rouge_l_one", img, r1))
            rows.append((name, "bleu4_one", img, nltk_sentence_bleu4(cand, refs)))
            rows.append((name, "f1_one", img, unigram_f1(cand, refs)))
        print("%-8s BLEU-1..4 coco %s nltk %s | COCO fudge terms move them by %s | CIDEr-D %.6f ROUGE-L %.6f"
              % (name, " ".join("%.6f" % x for x in coco), " ".join("%.6f" % x for x in nl),
                 " ".join("%.1e" % abs(a - b) for a, b in zip(fudge, coco)),
                 sum(cid) / len(cid), sum(rl) / len(rl)))
    with open(os.path.join(d, "expected.tsv"), "w") as f:
        f.write("# written by tools/metrics_reference.py; fixture, metric, image (- for the corpus), value\n")
        for name, metric, img, v in rows:
            f.write("%s\t%s\t%s\t%.12f\n" % (name, metric, img, v))
    print("wrote %d values to %s" % (len(rows), os.path.join(d, "expected.tsv")))


if __name__ == "__main__":
    main()
