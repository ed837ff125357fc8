"""Measure throughput, cold start, memory, model size and training time on this machine.

Run with ``make bench`` (or ``python bench/run_bench.py``). Prints a table and
writes the same figures to ``reports/bench.json`` so runs can be compared.
Every measurement runs in a child process, so peak memory is that of the task alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STREAM_SIZE = 20_000
STREAM_TEMPLATES = 300


def _run_child(args: list[str]) -> tuple[float, str]:
    """Run a command; return its wall seconds and stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(args)}\n{stderr}")
    return seconds, stdout


def _vary(text: str, rng: random.Random) -> str:
    """The same wording with other addresses, hosts, IPs and ids, as a mail log has them."""
    text = re.sub(
        r"[\w.+-]+@[\w-]+(\.[\w-]+)+",
        lambda m: f"user{rng.randint(1, 99999)}@d{rng.randint(1, 999)}.example.com",
        text,
    )
    text = re.sub(
        r"\b\d{1,3}(\.\d{1,3}){3}\b",
        lambda m: f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        text,
    )
    return re.sub(r"\b[0-9A-F]{8,}\b", lambda m: f"{rng.getrandbits(40):010X}", text)


def make_inputs() -> tuple[list[str], list[str]]:
    """A realistic stream (20,000 bounces, 300 wordings, a third Chinese) and distinct wordings."""
    from bounce_ml.corpus.files import CHINESE_LANGS, load_corpus
    from bounce_ml.text.normalize import normalize_text

    rows = load_corpus().rows
    seen: set[str] = set()
    distinct_rows = []
    for row in rows:
        key = normalize_text(row.text)
        if key not in seen:
            seen.add(key)
            distinct_rows.append(row)
    rng = random.Random(0)
    chinese = [r.text for r in distinct_rows if r.lang in CHINESE_LANGS]
    english = [r.text for r in distinct_rows if r.lang not in CHINESE_LANGS]
    templates = rng.sample(chinese, STREAM_TEMPLATES // 3) + rng.sample(
        english, STREAM_TEMPLATES * 2 // 3
    )
    stream = [_vary(rng.choice(templates), rng) for _ in range(STREAM_SIZE)]
    return stream, [r.text for r in distinct_rows]


def throughput_child(path: str) -> None:
    """In a child process: classify the texts in ``path`` once, print seconds and peak RSS."""
    import resource

    from bounce_ml import Classifier

    texts = json.loads(Path(path).read_text(encoding="utf-8"))
    classifier = Classifier()
    classifier.predict(["warm-up: 用户不存在 user unknown"])  # jieba and model loaded before timing
    started = time.perf_counter()
    predictions = classifier.predict(texts)
    seconds = time.perf_counter() - started
    assert len(predictions) == len(texts)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "n": len(texts)}))


def measure_throughput(texts: list[str]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)
    try:
        _, out = _run_child([sys.executable, __file__, "--child", f.name])
    finally:
        os.unlink(f.name)
    result = json.loads(out)
    return {
        "texts": result["n"],
        "per_second": result["n"] / result["seconds"],
        "peak_mb": result["peak_mb"],
    }


def measure_cold_start(runs: int) -> dict[str, float]:
    """Median wall time and peak RSS of a whole `bounce-ml predict` process."""
    command = [str(Path(sys.executable).parent / "bounce-ml"), "predict", "550 5.1.1 user unknown"]
    times, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - started)
        peaks.append(usage.ru_maxrss / 1024)
        if status:
            raise SystemExit("cold-start command failed")
    return {"median_seconds": statistics.median(times), "runs": runs, "peak_mb": max(peaks)}


def measure_training() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as model_dir:
        seconds, _ = _run_child(
            [str(Path(sys.executable).parent / "bounce-ml"), "train", "--model", model_dir]
        )
    return {"seconds": seconds}


def model_sizes() -> dict[str, float]:
    from bounce_ml import config
    from bounce_ml.predict.artifacts import PIPELINE_FILE, SCORER_FILE

    return {
        name: (config.MODELS_DIR / name).stat().st_size / 1e6
        for name in (SCORER_FILE, PIPELINE_FILE)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--output", default=str(ROOT / "reports" / "bench.json"), help="JSON results file"
    )
    parser.add_argument("--runs", type=int, default=7, help="cold-start runs (median reported)")
    parser.add_argument(
        "--skip-training", action="store_true", help="do not time `bounce-ml train`"
    )
    args = parser.parse_args()
    if args.child:
        throughput_child(args.child)
        return

    stream, distinct = make_inputs()
    results = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "stream": measure_throughput(stream),
        "distinct": measure_throughput(distinct),
        "cold_start": measure_cold_start(args.runs),
        "model_mb": model_sizes(),
    }
    if not args.skip_training:
        results["training"] = measure_training()
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    rows = [
        (
            "stream throughput (20,000 bounces, 300 wordings)",
            f"{results['stream']['per_second']:,.0f} texts/s",
            ">= 20,000/s",
        ),
        (
            f"distinct wordings ({results['distinct']['texts']:,})",
            f"{results['distinct']['per_second']:,.0f} texts/s",
            ">= 5,000/s",
        ),
        (
            "cold start `bounce-ml predict` (median)",
            f"{results['cold_start']['median_seconds']:.2f} s",
            "< 1.0 s",
        ),
        ("peak memory, stream run", f"{results['stream']['peak_mb']:.0f} MB", "< 400 MB"),
        ("peak memory, distinct run", f"{results['distinct']['peak_mb']:.0f} MB", "< 400 MB"),
        ("peak memory, cold start", f"{results['cold_start']['peak_mb']:.0f} MB", "< 400 MB"),
        (
            "model file scorer.npz (used by predict)",
            f"{results['model_mb']['scorer.npz']:.1f} MB",
            "< 25 MB",
        ),
        (
            "model file pipeline.joblib (evaluation)",
            f"{results['model_mb']['pipeline.joblib']:.1f} MB",
            "< 25 MB",
        ),
    ]
    if "training" in results:
        rows.append(
            ("training time `bounce-ml train`", f"{results['training']['seconds']:.1f} s", "< 60 s")
        )
    print(f"machine: {results['machine']}")
    print("| measure | result | target |\n|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
