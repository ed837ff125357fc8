"""Measure throughput, cold start, memory, hostile input, model size and training time.

Run with ``make bench`` (or ``python bench/run_bench.py``). Prints a table and
writes the same figures to ``reports/bench.json`` so runs can be compared.
Every measurement runs in a child process, so peak memory is that of the task
alone and no cache survives from one measurement to the next. English and
Chinese are measured separately; each figure is the median of several runs.
Rates are given per wall-clock second and per CPU second of the process: on a
shared machine the second is what the code costs, the first what others left.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_load import measure_service, table_rows
from stream import LANGUAGES, distinct_wordings, realistic_stream

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ADVERSARIAL = ROOT / "tests" / "fixtures" / "adversarial.toml"
LAUNCHER = Path(__file__).resolve().parent / "launcher.py"
STREAM_SIZE = 20_000
END_TO_END_SIZE = 100_000
COLD_TEXTS = {"en": "550 5.1.1 user unknown", "zh": "收件人不存在"}


def _run_child(args: list[str], stdout: int = subprocess.PIPE) -> tuple[dict[str, float], str]:
    """Run a command through ``launcher.py``: its wall seconds, CPU seconds and peak memory
    (``seconds``, ``cpu_seconds``, ``peak_mb``), and its standard output."""
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "measured.json"
        launcher = [sys.executable, str(LAUNCHER), str(report), *args]
        process = subprocess.run(launcher, stdout=stdout, stderr=subprocess.PIPE, text=True)
        measured = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    if process.returncode != 0 or measured.get("status") != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(args)}\n{process.stderr}")
    return measured, process.stdout or ""


def _median_of(runs: int, measure: Callable[[], dict[str, float]]) -> dict[str, float]:
    """Run ``measure`` several times; the median of each figure (peak memory: the largest)."""
    results = [measure() for _ in range(runs)]
    merged = {key: statistics.median(r[key] for r in results) for key in results[0]}
    if "peak_mb" in merged:
        merged["peak_mb"] = max(r["peak_mb"] for r in results)
    return {**merged, "runs": runs}


def throughput_child(path: str) -> None:
    """In a child process: classify the texts in ``path`` once, print seconds and peak RSS."""
    import resource

    from bounce_ml import Classifier

    texts = json.loads(Path(path).read_text(encoding="utf-8"))
    classifier = Classifier()
    classifier.predict(["warm-up: 用户不存在 user unknown"])  # model loaded before timing
    started, cpu_started = time.perf_counter(), time.process_time()
    predictions = classifier.predict(texts)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    assert len(predictions) == len(texts)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu_seconds, "peak_mb": peak_mb, "n": len(texts)}))


def adversarial_child() -> None:
    """In a child process: the slowest adversarial shape through normalise and classify."""
    from bounce_ml import Classifier
    from bounce_ml.text.normalize import mask_volatile
    from bounce_ml.tomlfile import read_toml

    spec = read_toml(ADVERSARIAL)
    classifier = Classifier()
    slowest, slowest_unit = 0.0, ""
    for shape in spec["shapes"]:
        unit = shape["unit"]
        text = (unit * (spec["size"] // len(unit) + 1))[: spec["size"]] + shape.get("tail", "")
        started = time.perf_counter()
        classifier.predict([text])  # cut to MAX_TEXT_CHARS, then every stage
        mask_volatile(text.lower())  # the whole 64 KB through every masking pattern
        seconds = time.perf_counter() - started
        if seconds > slowest:
            slowest, slowest_unit = seconds, unit
    print(json.dumps({"seconds": slowest, "unit": slowest_unit, "shapes": len(spec["shapes"])}))


def measure_throughput(texts: list[str]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)
    try:
        _, out = _run_child([sys.executable, __file__, "--child", f.name])
    finally:
        os.unlink(f.name)
    result = json.loads(out)
    return {
        "per_second": result["n"] / result["seconds"],
        "per_cpu_second": result["n"] / result["cpu"],
        "peak_mb": result["peak_mb"],
    }


def measure_end_to_end(texts: list[str]) -> dict[str, float]:
    """Wall and CPU time of `bounce-ml predict --input FILE -f jsonl` (start-up included)."""
    if any(len(text.splitlines()) != 1 for text in texts):
        raise ValueError("end to end needs one text per line: a text spans lines or is empty")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    try:
        measured, _ = _run_child(
            [str(BIN / "bounce-ml"), "predict", "--input", f.name, "-f", "jsonl", "-q"],
            stdout=subprocess.DEVNULL,
        )
    finally:
        os.unlink(f.name)
    return {
        "per_second": len(texts) / measured["seconds"],
        "per_cpu_second": len(texts) / measured["cpu_seconds"],
    }


def byte_compile_package() -> None:
    """Write the package's bytecode cache, as pip does when it installs a package.

    An editable install leaves that to the first run, which cannot write it where
    PYTHONDONTWRITEBYTECODE is set (as in some sandboxes); every cold start would then
    compile the package's ~20 modules again, about 25 ms on this machine.
    """
    compileall.compile_dir(ROOT / "bounce_ml", quiet=1)


def measure_cold_start(text: str) -> dict[str, float]:
    """Wall time, CPU time and peak RSS of one whole `bounce-ml predict TEXT` process."""
    measured, _ = _run_child([str(BIN / "bounce-ml"), "predict", text], stdout=subprocess.DEVNULL)
    return {key: measured[key] for key in ("seconds", "cpu_seconds", "peak_mb")}


def measure_adversarial() -> dict[str, float]:
    _, out = _run_child([sys.executable, __file__, "--adversarial-child"])
    return json.loads(out)


def _timed_child(args: list[str]) -> dict[str, float]:
    """Wall seconds and CPU seconds (user + system) of a child process."""
    measured, _ = _run_child(args, stdout=subprocess.DEVNULL)
    return {key: measured[key] for key in ("seconds", "cpu_seconds")}


def measure_training() -> dict[str, dict[str, float]]:
    """`bounce-ml train` on the corpus, and a retrain with 20 rows from a feedback store.

    The feedback rows are the walkthrough's invented provider (tests/fixtures/feedback/).
    """
    import csv

    from bounce_ml.feedback.store import FeedbackStore

    command = str(BIN / "bounce-ml")
    teach = ROOT / "tests" / "fixtures" / "feedback" / "halvard_teach.csv"
    with tempfile.TemporaryDirectory() as work:
        store_path = Path(work) / "feedback.sqlite3"
        with (
            open(teach, encoding="utf-8", newline="") as handle,
            FeedbackStore(store_path) as store,
        ):
            for row in csv.DictReader(handle):
                store.add_label(row["text"], row["label"], origin="bench")
        corpus = _timed_child([command, "train", "--model", f"{work}/corpus"])
        feedback = _timed_child(
            [command, "train", "--model", f"{work}/feedback", "--feedback", str(store_path)]
        )
    return {"corpus": corpus, "with_feedback": feedback}


def model_sizes() -> dict[str, float]:
    from bounce_ml import config
    from bounce_ml.predict.artifacts import PIPELINE_FILE, SCORER_FILE

    return {
        name: (config.MODELS_DIR / name).stat().st_size / 1e6
        for name in (SCORER_FILE, PIPELINE_FILE)
    }


def _table(results: dict) -> list[tuple[str, str, str]]:
    rows = []
    for lang in LANGUAGES:
        stream, e2e = results["stream"][lang], results["end_to_end"][lang]
        share = e2e["per_cpu_second"] / stream["per_cpu_second"]
        distinct, cold = results["distinct"][lang], results["cold_start"][lang]
        rows += [
            (
                f"{lang}: realistic stream, in-process ({STREAM_SIZE:,} lines, "
                f"{stream['wordings']} wordings)",
                f"{stream['per_second']:,.0f} texts/s ({stream['per_cpu_second']:,.0f}/CPU-s)",
                ">= 50,000/s",
            ),
            (
                f"{lang}: `predict --input FILE -f jsonl` end to end ({END_TO_END_SIZE:,} lines)",
                f"{e2e['per_second']:,.0f} texts/s ({e2e['per_cpu_second']:,.0f}/CPU-s; "
                f"{share:.0%})",
                ">= 60% of in-process",
            ),
            (
                f"{lang}: distinct wordings ({distinct['texts']:,})",
                f"{distinct['per_second']:,.0f} texts/s ({distinct['per_cpu_second']:,.0f}/CPU-s)",
                ">= 15,000/s",
            ),
            (
                f"{lang}: cold start `bounce-ml predict TEXT` (median of {cold['runs']})",
                f"{cold['seconds']:.2f} s wall, {cold['cpu_seconds']:.2f} s CPU",
                "<= 0.30 s",
            ),
            (f"{lang}: peak memory, cold start", f"{cold['peak_mb']:.0f} MB", "<= 100 MB"),
            (f"{lang}: peak memory, stream run", f"{stream['peak_mb']:.0f} MB", "< 400 MB"),
        ]
    adversarial = results["adversarial"]
    rows += [
        (
            f"slowest of {adversarial['shapes']} adversarial 64 KB shapes "
            f"(`{adversarial['unit']}` repeated)",
            f"{adversarial['seconds'] * 1000:.0f} ms",
            "< 2 s (test bound)",
        ),
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
        for key, what in (
            ("corpus", "`bounce-ml train`"),
            ("with_feedback", "`bounce-ml train --feedback` (20 rows)"),
        ):
            timing = results["training"][key]
            rows.append(
                (
                    f"training time {what}, wall (CPU)",
                    f"{timing['seconds']:.1f} s ({timing['cpu_seconds']:.1f} s)",
                    "<= 15 s",
                )
            )
    if "spark" in results:
        spark = results["spark"]
        rows += [
            (
                f"Spark {spark['master']}, Parquet to Parquet ({spark['rows']:,} rows, en + zh)",
                f"{spark['spark_rows_per_s']:,.0f} rows/s, peak {spark['spark_peak_mb']:,.0f} MB",
                f"JVM start {spark['spark_start_s']:.0f} s not counted",
            ),
            (
                "`bounce-ml predict --input` JSONL, the same rows",
                f"{spark['cli_rows_per_s']:,.0f} rows/s, peak {spark['cli_peak_mb']:,.0f} MB",
                "one process",
            ),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--adversarial-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--output", default=str(ROOT / "reports" / "bench.json"), help="JSON results file"
    )
    parser.add_argument("--runs", type=int, default=7, help="cold-start runs (median reported)")
    parser.add_argument(
        "--throughput-runs", type=int, default=3, help="throughput runs (median reported)"
    )
    parser.add_argument(
        "--skip-training", action="store_true", help="do not time `bounce-ml train`"
    )
    parser.add_argument(
        "--spark-rows",
        type=int,
        default=100_000,
        help="rows for the Spark run (0 skips it; the README quotes 1,000,000)",
    )
    parser.add_argument(
        "--service-only",
        action="store_true",
        help="only the `bounce-ml serve` load test (updates its part of the results file)",
    )
    args = parser.parse_args()
    if args.child:
        throughput_child(args.child)
        return
    if args.adversarial_child:
        adversarial_child()
        return
    if args.service_only:
        output = Path(args.output)
        previous = json.loads(output.read_text(encoding="utf-8")) if output.exists() else {}
        previous["service"] = measure_service(_service_texts())
        output.write_text(json.dumps(previous, indent=2) + "\n", encoding="utf-8")
        _print_table(table_rows(previous["service"]))
        print(f"\nwrote {args.output}")
        return

    byte_compile_package()
    results: dict = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg()[0],
        },
        "stream": {},
        "end_to_end": {},
        "distinct": {},
        "cold_start": {},
    }
    for lang in LANGUAGES:
        stream, wordings = realistic_stream(lang, STREAM_SIZE, seed=0)
        distinct = distinct_wordings(lang)
        long_stream, _ = realistic_stream(lang, END_TO_END_SIZE, seed=1)
        results["stream"][lang] = {
            **_median_of(args.throughput_runs, lambda s=stream: measure_throughput(s)),
            "wordings": wordings,
        }
        results["end_to_end"][lang] = _median_of(
            args.throughput_runs, lambda s=long_stream: measure_end_to_end(s)
        )
        results["distinct"][lang] = {
            **_median_of(args.throughput_runs, lambda d=distinct: measure_throughput(d)),
            "texts": len(distinct),
        }
        results["cold_start"][lang] = _median_of(
            args.runs, lambda t=COLD_TEXTS[lang]: measure_cold_start(t)
        )
    results["adversarial"] = measure_adversarial()
    results["model_mb"] = model_sizes()
    if not args.skip_training:
        results["training"] = measure_training()
    if args.spark_rows:
        from spark_bench import measure_spark

        results["spark"] = measure_spark(args.spark_rows, seed=0)
    results["service"] = measure_service(_service_texts())
    results["machine"]["load_average_at_end"] = os.getloadavg()[0]
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    print(f"machine: {results['machine']}")
    _print_table(_table(results) + table_rows(results["service"]))
    print(f"\nwrote {args.output}")


def _service_texts() -> list[str]:
    """English and Chinese realistic streams, interleaved, for the service load test."""
    streams = [realistic_stream(lang, STREAM_SIZE // 2, seed=2)[0] for lang in LANGUAGES]
    return [text for texts in zip(*streams, strict=False) for text in texts]


def _print_table(rows: list[tuple[str, str, str]]) -> None:
    print("| measure | result | target |\n|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")


if __name__ == "__main__":
    main()
