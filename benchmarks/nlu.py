"""NLU speed and size: training time, model size on disk, parse latency p50/p99, batch throughput,
peak RSS. Prints figures; asserts nothing.

Usage:
    .venv/bin/python benchmarks/nlu.py                       # project data (nlu_data/ + faq/)
    .venv/bin/python benchmarks/nlu.py --nlu TRAIN.yml       # any Rasa NLU file
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from bot.nlu.model import load_model, save_model  # noqa: E402
from bot.nlu.normalize import strip_accents  # noqa: E402
from bot.nlu.tokenize import default_segmenter  # noqa: E402
from bot.nlu.tuning import train_classifier  # noqa: E402
from bot.training import base_classifier, load_data  # noqa: E402


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nlu", action="append")
    parser.add_argument("--messages", type=int, default=2000, help="messages for the latency run")
    parser.add_argument("--intents", type=int, default=0, help="keep only the N largest intents (timing proxy for other data sets)")
    parser.add_argument("--examples", type=int, default=0, help="then sample this many examples")
    args = parser.parse_args()
    settings = Settings.load()
    data = load_data(settings, args.nlu or ())
    if args.intents:
        keep = {name for name, _ in data.intent_counts().most_common(args.intents)}
        data.examples = [e for e in data.examples if e.intent in keep]
    if args.examples and args.examples < len(data.examples):
        data.examples = random.Random(0).sample(data.examples, args.examples)
    print(f"data: {len(data.examples)} examples, {len(data.intent_counts())} intents")

    t0 = time.perf_counter()
    clf, report = train_classifier(data.texts, data.intents, base=base_classifier(settings))
    train_s = time.perf_counter() - t0
    print(f"training (CV tuning + final fit, cold segmentation cache): {train_s:.2f} s; CV accuracy {report.cv_accuracy:.4f}")

    with tempfile.TemporaryDirectory() as tmp:
        folder = save_model(clf, {"thresholds": {"confidence": report.threshold, "margin": report.margin}}, Path(tmp) / "m")
        print(f"model size on disk: {folder_size(folder) / 1e6:.2f} MB")
        t0 = time.perf_counter()
        model = load_model(folder)
        print(f"model load time: {time.perf_counter() - t0:.2f} s")

    rng = random.Random(0)
    texts = [rng.choice(data.texts) for _ in range(args.messages)]
    # Vary each probe so the segmentation cache does not flatter the figures.
    probes = [f"{t} {rng.randint(0, 10**6)}" if i % 2 else strip_accents(t) + f" {rng.randint(0, 10**6)}" for i, t in enumerate(texts)]
    default_segmenter()  # warm up the CRF model once
    model.parse("xin chào")
    latencies = []
    for text in probes:
        t0 = time.perf_counter()
        model.parse(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"single-message parse latency over {len(latencies)} uncached messages: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms")

    batch = [f"{t} {i}" for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    model.parse_many(batch)
    batch_s = time.perf_counter() - t0
    print(f"batch throughput: {len(batch) / batch_s:.0f} messages/s ({len(batch)} messages in {batch_s:.2f} s)")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
