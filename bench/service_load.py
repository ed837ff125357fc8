"""A bounded load test of `bounce-ml serve` on loopback: requests/s and latency percentiles.

It starts a real server (one worker, a throw-away feedback store) on a free port of
127.0.0.1 and stops it at the end; nothing but 127.0.0.1 is contacted. Each case runs
N clients, each on its own keep-alive HTTP/1.1 connection with one request in flight,
sending requests back to back until a time limit or a request limit, whichever comes
first (and the whole case is cut off 30 s after its time limit).

How latency is measured: the clients are coroutines on one asyncio event loop in this
process, writing ready-made request bytes to a socket and reading the response by its
Content-Length, with no HTTP library. A client's latency is from the write of its
request until the last byte of the response has been read. On the 2 cores of the
reference machine the server takes one core and the clients share the other; the
load generator's own CPU time is reported (``client_cpu_share``, of one core) to show
how much it takes. The first version ran 16 threads with `http.client`: at about
1,300 requests/s they took 25% of a core (190 µs a request, against 125 µs now), and
waited for one another's GIL besides.

Each case also reports the server's own view: the ``ms`` of the access log lines of its
requests, from the server handing a request to the application (its headers parsed) to
the end of the response. Time spent waiting before that, in the socket or behind other
requests on the server's event loop, is not in it, nor the network or the client: at 16
clients the difference from the client's figure is mostly that queue.

The in-process figure it is compared with classifies the same batches of 100 with
a `Classifier` in a fresh process, cycling through them for as long as a case lasts,
as the clients do: both start with an empty cache, and both meet each batch again
after the first round.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SECONDS_PER_CASE = 5.0
MAX_REQUESTS_PER_CLIENT = 5_000
REQUEST_TIMEOUT_S = 30.0
BATCH = 100
CASES = (("single text", 1, 1), ("single text", 16, 1), ("batch of 100", 1, BATCH),
         ("batch of 100", 16, BATCH))  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(workdir: Path, log: Path) -> Iterator[int]:
    port = _free_port()
    env = {**os.environ, "BOUNCE_ML_FEEDBACK": str(workdir / "feedback.sqlite3")}
    command = [str(Path(sys.executable).parent / "bounce-ml"), "serve", "--port", str(port)]
    with open(log, "w", encoding="utf-8") as output:
        process = subprocess.Popen(command, stdout=output, stderr=output, env=env)
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
                raise SystemExit(f"bounce-ml serve did not start; see {log}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _request(port: int, body: bytes) -> bytes:
    """The bytes of one POST /v1/classify on a keep-alive HTTP/1.1 connection."""
    head = (
        f"POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _read_response(reader: asyncio.StreamReader) -> None:
    """Read one whole response (status line, headers, Content-Length bytes of body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = status_line.split(" ", 2)[1]
    length = None
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length is None:
        raise SystemExit(f"load test: HTTP {status} without Content-Length")
    await reader.readexactly(length)
    if status != "200":
        raise SystemExit(f"load test: HTTP {status}")


async def _client(
    port: int, requests: list[bytes], deadline: float, latencies: list[float]
) -> None:
    """One client: one connection, one request at a time, until the deadline or the limit."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i in range(MAX_REQUESTS_PER_CLIENT):
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            await _read_response(reader)
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()
        await writer.wait_closed()


async def _clients(port: int, per_client: list[list[bytes]], latencies: list[list[float]]) -> None:
    deadline = time.perf_counter() + SECONDS_PER_CASE
    clients = [
        _client(port, r, deadline, lat) for r, lat in zip(per_client, latencies, strict=True)
    ]
    # A request stuck past the deadline must not hold the run up for ever.
    await asyncio.wait_for(asyncio.gather(*clients), SECONDS_PER_CASE + REQUEST_TIMEOUT_S)


def _run_case(port: int, log: Path, texts: list[str], clients: int, batch: int) -> dict[str, float]:
    requests = [
        _request(port, json.dumps({"texts": texts[i : i + batch]}).encode())
        for i in range(0, len(texts) - batch + 1, batch)
    ]
    per_client: list[list[float]] = [[] for _ in range(clients)]
    log_start = log.stat().st_size
    cpu_started = time.process_time()
    started = time.perf_counter()
    asyncio.run(
        _clients(port, [requests[c::clients] or requests for c in range(clients)], per_client)
    )
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_started
    latencies = [latency * 1000 for client in per_client for latency in client]
    p50, p99 = _percentiles(latencies)
    server_p50, server_p99 = _percentiles(_access_log_ms(log, log_start))
    return {
        "clients": clients,
        "batch": batch,
        "requests": len(latencies),
        "requests_per_second": len(latencies) / seconds,
        "texts_per_second": len(latencies) * batch / seconds,
        "p50_ms": p50,
        "p99_ms": p99,
        "server_p50_ms": server_p50,
        "server_p99_ms": server_p99,
        "client_cpu_share": client_cpu / seconds,
    }


def _percentiles(values: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _access_log_ms(log: Path, start: int) -> list[float]:
    """The ``ms`` of the classify requests in the server's JSON access log from byte ``start``."""
    time.sleep(0.2)  # the server writes a request's line just after sending its response
    with log.open("rb") as lines:
        lines.seek(start)
        entries = [json.loads(line) for line in lines if line.startswith(b"{")]
    return [entry["ms"] for entry in entries if entry.get("path") == "/v1/classify"]


def _in_process_child(path: str) -> None:
    """In a child process: classify the batches of 100 of ``path`` with a Classifier, over
    and over for SECONDS_PER_CASE, as the load test's clients send them: the Classifier's
    memory of wordings then helps both sides alike."""
    from bounce_ml import Classifier

    texts = json.loads(Path(path).read_text(encoding="utf-8"))
    batches = [texts[i : i + BATCH] for i in range(0, len(texts) - BATCH + 1, BATCH)]
    classifier = Classifier()
    classifier.predict(["warm-up: 用户不存在 user unknown"])
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < SECONDS_PER_CASE:
        classifier.predict(batches[done % len(batches)])
        done += 1
    seconds = time.perf_counter() - started
    print(json.dumps({"texts_per_second": done * BATCH / seconds}))


def measure_service(texts: list[str]) -> dict[str, object]:
    """Load-test a local server with ``texts``; also classify them in-process to compare."""
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "texts.json"
        path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        child = [sys.executable, __file__, "--in-process", str(path)]
        in_process = json.loads(subprocess.run(child, capture_output=True, check=True).stdout)
        log = Path(workdir) / "server.log"
        with _server(Path(workdir), log) as port:
            cases = [_run_case(port, log, texts, clients, batch) for _, clients, batch in CASES]
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
                f"texts/s), p50 {case['p50_ms']:.1f} ms, p99 {case['p99_ms']:.1f} ms "
                f"(in the server: p50 {case['server_p50_ms']:.1f} ms, p99 "
                f"{case['server_p99_ms']:.1f} ms; load generator {case['client_cpu_share']:.0%} "
                "of a core)",
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
