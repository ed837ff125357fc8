"""A bounded load test of `bounce-ml serve` on loopback: requests/s and latency percentiles.

It starts a real server (one worker, a throw-away feedback store) on a free port of
127.0.0.1, then for each case runs N client threads, each on its own keep-alive
connection, sending requests back to back until a time limit or a request limit,
whichever comes first, and stops the server. Nothing but 127.0.0.1 is contacted.

The in-process figure it is compared with classifies the same batches of 100 with
a `Classifier` in a fresh process, so both start with an empty cache.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SECONDS_PER_CASE = 5.0
MAX_REQUESTS_PER_CLIENT = 5_000
BATCH = 100
CASES = (("single text", 1, 1), ("single text", 16, 1), ("batch of 100", 1, BATCH),
         ("batch of 100", 16, BATCH))  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(workdir: Path) -> Iterator[int]:
    port = _free_port()
    env = {**os.environ, "BOUNCE_ML_FEEDBACK": str(workdir / "feedback.sqlite3")}
    command = [str(Path(sys.executable).parent / "bounce-ml"), "serve", "--port", str(port)]
    with open(workdir / "server.log", "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bounce-ml serve did not start; see {workdir / 'server.log'}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _client(port: int, bodies: list[bytes], deadline: float, latencies: list[float]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    for i in range(MAX_REQUESTS_PER_CLIENT):
        if time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        connection.request("POST", "/v1/classify", body=bodies[i % len(bodies)], headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"load test: HTTP {response.status}")
        latencies.append(time.perf_counter() - started)
    connection.close()


def _run_case(port: int, texts: list[str], clients: int, batch: int) -> dict[str, float]:
    bodies = [
        json.dumps({"texts": texts[i : i + batch]}).encode()
        for i in range(0, len(texts) - batch + 1, batch)
    ]
    per_client: list[list[float]] = [[] for _ in range(clients)]
    started = time.perf_counter()
    deadline = started + SECONDS_PER_CASE
    threads = [
        threading.Thread(target=_client, args=(port, bodies[c::clients] or bodies, deadline, lat))
        for c, lat in enumerate(per_client)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies = sorted(latency for client in per_client for latency in client)
    return {
        "clients": clients,
        "batch": batch,
        "requests": len(latencies),
        "requests_per_second": len(latencies) / seconds,
        "texts_per_second": len(latencies) * batch / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def _in_process_child(path: str) -> None:
    """In a child process: classify the batches of 100 of ``path`` with a Classifier."""
    from bounce_ml import Classifier

    texts = json.loads(Path(path).read_text(encoding="utf-8"))
    classifier = Classifier()
    classifier.predict(["warm-up: 用户不存在 user unknown"])
    started = time.perf_counter()
    for i in range(0, len(texts) - BATCH + 1, BATCH):
        classifier.predict(texts[i : i + BATCH])
    seconds = time.perf_counter() - started
    print(json.dumps({"texts_per_second": (len(texts) // BATCH * BATCH) / seconds}))


def measure_service(texts: list[str]) -> dict[str, object]:
    """Load-test a local server with ``texts``; also classify them in-process to compare."""
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "texts.json"
        path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        child = [sys.executable, __file__, "--in-process", str(path)]
        in_process = json.loads(subprocess.run(child, capture_output=True, check=True).stdout)
        with _server(Path(workdir)) as port:
            cases = [_run_case(port, texts, clients, batch) for _, clients, batch in CASES]
    best_batch = max(case["texts_per_second"] for case in cases if case["batch"] == BATCH)
    return {
        "cases": cases,
        "in_process_texts_per_second": in_process["texts_per_second"],
        "batch_share_of_in_process": best_batch / in_process["texts_per_second"],
    }


def table_rows(results: dict[str, object]) -> list[tuple[str, str, str]]:
    """Rows for the benchmark table: measure, result, target."""
    rows = []
    cases = results["cases"]
    assert isinstance(cases, list)
    for (name, _, _), case in zip(CASES, cases, strict=True):
        target = "p99 < 20 ms" if case["batch"] == 1 and case["clients"] == 16 else ""
        rows.append(
            (
                f"service, {name}, {case['clients']} client(s)",
                f"{case['requests_per_second']:,.0f} req/s ({case['texts_per_second']:,.0f} "
                f"texts/s), p50 {case['p50_ms']:.1f} ms, p99 {case['p99_ms']:.1f} ms",
                target,
            )
        )
    rows.append(
        (
            "service batch-100 throughput vs in-process",
            f"{results['batch_share_of_in_process']:.0%} "
            f"(in-process {results['in_process_texts_per_second']:,.0f} texts/s)",
            ">= 50%",
        )
    )
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--in-process":
        _in_process_child(sys.argv[2])
