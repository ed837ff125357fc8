"""The Spark benchmark: realistic bounce rows from Parquet to Parquet on ``local[2]``, next to
the single-process command line on the same rows.

Run by ``bench/run_bench.py`` (``make bench``); ``--spark-rows N`` sets the size, and the
README gives the figure for 1,000,000 rows. The rows are `stream.realistic_stream` lines,
half English and half Chinese, interleaved: every line has its own date, queue id,
address, relay host and IP. They are written from a fixed seed to a temporary folder
and deleted afterwards, so nothing is committed or left behind. Peak memory is that of
the whole process tree (for Spark: the JVM and its Python workers), sampled from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream import realistic_stream

CHUNK_ROWS = 100_000
MASTER = "local[2]"


def write_inputs(count: int, seed: int, folder: Path) -> tuple[Path, Path]:
    """The same ``count`` rows as one Parquet file and one JSON-lines file in ``folder``."""
    english, _ = realistic_stream("en", count - count // 2, seed)
    chinese, _ = realistic_stream("zh", count // 2, seed)
    texts = [text for pair in zip(english, chinese, strict=False) for text in pair]
    texts += english[len(chinese) :]
    parquet, jsonl = folder / "bounces.parquet", folder / "bounces.jsonl"
    schema = pa.schema([("id", pa.int64()), ("text", pa.string())])
    with pq.ParquetWriter(parquet, schema) as writer, open(jsonl, "w", encoding="utf-8") as lines:
        for start in range(0, count, CHUNK_ROWS):
            ids = list(range(start, min(start + CHUNK_ROWS, count)))
            chunk = texts[start : start + CHUNK_ROWS]
            writer.write_table(pa.table({"id": ids, "text": chunk}, schema=schema))
            lines.writelines(
                json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                for i, t in zip(ids, chunk, strict=True)
            )
    return parquet, jsonl


def spark_child(parquet: str, output: str) -> None:
    """In a child process: start Spark, classify ``parquet`` into ``output``; print timings."""
    from bounce_ml.spark import run, session

    started = time.perf_counter()
    with session.spark_job(MASTER) as spark:
        ready = time.perf_counter()
        counts = run.predict(
            spark,
            Path(parquet),
            Path(output),
            fmt="parquet",
            text_column="text",
            model_dir=None,
            lang="en",
            overwrite=False,
        )
        done = time.perf_counter()
    print(json.dumps({"start_s": ready - started, "job_s": done - ready, "rows": counts.total()}))


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, in MB."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier += children
    pages = 0
    for pid in tree:
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def run_sampled(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``; its wall seconds, the peak memory of its process tree and stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    finished = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not finished.wait(0.5):
            peak = max(peak, _tree_rss_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    finished.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(command)}\n{stderr}")
    return seconds, peak, stdout


def measure_spark(count: int, seed: int) -> dict[str, float | str]:
    """Rows/s of Spark on MASTER and of `bounce-ml predict --input` on the same rows."""
    bounce_ml = str(Path(sys.executable).parent / "bounce-ml")
    with tempfile.TemporaryDirectory(prefix="bounce-ml-bench-") as temporary:
        folder = Path(temporary)
        parquet, jsonl = write_inputs(count, seed, folder)
        child = [sys.executable, __file__, "--child", str(parquet), str(folder / "spark-out")]
        spark_wall, spark_peak, out = run_sampled(child)
        spark = json.loads(out)
        cli = [bounce_ml, "predict", "-q", "--input", str(jsonl), "-o", str(folder / "cli.jsonl")]
        cli_wall, cli_peak, _ = run_sampled(cli)
    if spark["rows"] != count:
        raise SystemExit(f"Spark wrote {spark['rows']} rows of {count}")
    return {
        "rows": count,
        "master": MASTER,
        "spark_rows_per_s": count / spark["job_s"],
        "spark_job_s": spark["job_s"],
        "spark_start_s": spark["start_s"],
        "spark_wall_s": spark_wall,
        "spark_peak_mb": spark_peak,
        "cli_rows_per_s": count / cli_wall,
        "cli_wall_s": cli_wall,
        "cli_peak_mb": cli_peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows to generate and classify")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spark_child(*args.child)
    else:
        print(json.dumps(measure_spark(args.rows, args.seed), indent=2))


if __name__ == "__main__":
    main()
