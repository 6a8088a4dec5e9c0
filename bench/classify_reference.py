#!/usr/bin/env python3
"""Reference for the category classifier: scikit-learn TF-IDF + LinearSVC on the same folds.

Runs 5-fold stratified cross-validation on ../shared/data/teddy2020c/classify_train.csv with the
fold rule of `jiesu_intake::classify::fold_assignment` (implemented identically below), runs ours
(`cargo run --release -p jiesu-intake --example cv`, nested: each fold model picks its settings on
its own training folds) on the same folds, and prints the two side by side: macro-F1 and accuracy
of the pooled out-of-fold predictions, each fold's macro-F1 (mean and spread), each class's F1,
prediction throughput (messages per CPU-second of one thread, vectorising included) and training
time per fold (CPU seconds for the reference; ours reports CPU seconds where Linux tells them).

Usage:
    pip install -r bench/requirements.txt
    python3 bench/classify_reference.py [--data FILE] [--k 5] [--seed 0] [--no-rust]

The reference is the usual baseline: TfidfVectorizer over the whitespace-separated tokens
(default settings otherwise) and LinearSVC(C=1). `--strong` adds the best scikit-learn set-up
found while building ours (word + char 1-3-gram + title views, sublinear TF, balanced classes).
"""

import argparse
import csv
import os
import re
import subprocess
import sys
import time

M64 = (1 << 64) - 1


def splitmix64(x):
    """splitmix64: add the golden gamma, then the finaliser (same as Rust `mix64`)."""
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def fold_assignment(labels, k, seed):
    """Stratified folds: within each label (sorted), order rows by (splitmix64(s ^ i), i),
    with s = seed * 0x9E3779B97F4A7C15 mod 2^64; position p goes to fold p % k."""
    by = {}
    for i, lab in enumerate(labels):
        by.setdefault(lab, []).append(i)
    s = (seed * 0x9E3779B97F4A7C15) & M64
    fold = [0] * len(labels)
    for lab in sorted(by):
        idx = sorted(by[lab], key=lambda i: (splitmix64(s ^ i), i))
        for p, i in enumerate(idx):
            fold[i] = p % k
    return fold


def load(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "label" not in rows[0] or "text_segmented" not in rows[0]:
        sys.exit(f"{path}: need columns text_segmented,label")
    return [r["text_segmented"] for r in rows], [r["label"] for r in rows]


def reference_cv(texts, labels, k, seed, strong):
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.svm import LinearSVC

    y = np.array(labels)
    folds = np.array(fold_assignment(labels, k, seed))
    fold_f1 = []
    pred = np.empty(len(y), dtype=object)
    split = str.split
    train_s = pred_s = 0.0
    for fold in range(k):
        tr = np.where(folds != fold)[0]
        te = np.where(folds == fold)[0]
        xtr = [texts[i] for i in tr]
        xte = [texts[i] for i in te]
        t0 = time.thread_time()
        if strong:
            title = lambda s: ["T" + w for w in s.split()[:15]]  # noqa: E731
            vecs = [
                (TfidfVectorizer(tokenizer=split, token_pattern=None, lowercase=False, sublinear_tf=True, min_df=2), 1.0),
                (TfidfVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=False, sublinear_tf=True, min_df=2,
                                 preprocessor=lambda s: s.replace(" ", "")), 1.3),
                (TfidfVectorizer(tokenizer=title, token_pattern=None, lowercase=False, sublinear_tf=True, min_df=2), 0.5),
            ]
            a = sp.hstack([v.fit_transform(xtr) * w for v, w in vecs]).tocsr()
            model = LinearSVC(C=2.0, class_weight="balanced").fit(a, y[tr])
            t1 = time.thread_time()
            b = sp.hstack([v.transform(xte) * w for v, w in vecs]).tocsr()
            pred[te] = model.predict(b)
        else:
            vec = TfidfVectorizer(tokenizer=split, token_pattern=None, lowercase=False)
            model = LinearSVC(C=1.0).fit(vec.fit_transform(xtr), y[tr])
            t1 = time.thread_time()
            pred[te] = model.predict(vec.transform(xte))
        t2 = time.thread_time()
        fold_f1.append(f1_score(y[te], pred[te].astype(str), average="macro"))
        train_s += t1 - t0
        pred_s += t2 - t1
    classes = sorted(set(labels))
    per_class = f1_score(y, pred.astype(str), labels=classes, average=None)
    return {
        "macro_f1": f1_score(y, pred.astype(str), average="macro"),
        "accuracy": accuracy_score(y, pred.astype(str)),
        "msgs_per_s": len(y) / pred_s,
        "train_s_per_fold": train_s / k,
        "folds": fold_f1,
        "classes": dict(zip(classes, per_class)),
    }


def rust_cv(data, k, seed):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cmd = ["cargo", "run", "--release", "-q", "-p", "jiesu-intake", "--example", "cv", "--",
           "--data", data, "--k", str(k), "--seed", str(seed)]
    out = subprocess.run(cmd, cwd=root, check=True, capture_output=True, text=True).stdout
    figures = {}
    for key in ("macro_f1", "accuracy", "msgs_per_s", "train_seconds_per_fold"):
        m = re.search(rf"^{key}: ([0-9.]+)$", out, re.M)
        if m:
            figures[key] = float(m.group(1))
    figures["train_s_per_fold"] = figures.pop("train_seconds_per_fold", float("nan"))
    figures["folds"] = [float(x) for x in re.findall(r"^fold \d+: macro_f1 ([0-9.]+)", out, re.M)]
    figures["classes"] = {lab: float(x) for lab, x in re.findall(r"^f1\[(.+)\]: ([0-9.]+)$", out, re.M)}
    m = re.search(r"^confident part .*: coverage ([0-9.]+), precision ([0-9.]+)$", out, re.M)
    if m:
        figures["confident"] = (float(m.group(1)), float(m.group(2)))
    return figures


def show(results):
    """Prints the results side by side, one column per model."""
    import statistics

    names = [n for n, _ in results]
    width = max(12, *(len(n) for n in names))
    head = f"{'':<22}" + "".join(f" {n:>{width}}" for n in names)
    print(head)
    print("-" * len(head))

    def row(title, cells):
        print(f"{title:<22}" + "".join(f" {c:>{width}}" for c in cells))

    row("macro_f1 (pooled)", [f"{r['macro_f1']:.4f}" for _, r in results])
    row("accuracy", [f"{r['accuracy']:.4f}" for _, r in results])
    k = max(len(r["folds"]) for _, r in results)
    for i in range(k):
        row(f"  fold {i} macro_f1", [f"{r['folds'][i]:.4f}" if i < len(r["folds"]) else "-" for _, r in results])
    row("  fold mean ± sd", [f"{statistics.mean(r['folds']):.4f}±{statistics.pstdev(r['folds']):.4f}"
                             if r["folds"] else "-" for _, r in results])
    labels = sorted({lab for _, r in results for lab in r["classes"]})
    for lab in labels:
        row(f"  f1 {lab}", [f"{r['classes'][lab]:.4f}" if lab in r["classes"] else "-" for _, r in results])
    row("msgs_per_s (1 core)", [f"{r['msgs_per_s']:.0f}" for _, r in results])
    row("train s/fold", [f"{r['train_s_per_fold']:.2f}" for _, r in results])
    row("confident cov/prec", [f"{r['confident'][0]:.3f}/{r['confident'][1]:.3f}" if "confident" in r else "-"
                               for _, r in results])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.normpath(os.path.join(here, "..", "..", "shared", "data", "teddy2020c", "classify_train.csv"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=default)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--strong", action="store_true", help="also run the tuned scikit-learn set-up")
    ap.add_argument("--no-rust", action="store_true", help="skip running ours")
    args = ap.parse_args()
    if not os.path.exists(args.data):
        sys.exit(f"missing {args.data}: the benchmark needs ../shared/data (see shared/data/README.md)")
    texts, labels = load(args.data)
    print(f"data: {args.data} ({len(texts)} rows), {args.k}-fold, seed {args.seed}", flush=True)
    results = [("sklearn TF-IDF+SVC", reference_cv(texts, labels, args.k, args.seed, False))]
    if args.strong:
        results.append(("sklearn 3 views", reference_cv(texts, labels, args.k, args.seed, True)))
    if not args.no_rust:
        results.append(("jiesu", rust_cv(args.data, args.k, args.seed)))
    show(results)


if __name__ == "__main__":
    main()
