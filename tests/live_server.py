"""A real `bounce-ml serve` process on a free loopback port, for the service tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BOUNCE_ML = str(Path(sys.executable).parent / "bounce-ml")
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """A started server: its base URL, an HTTP client, and what it wrote on stderr."""

    def __init__(
        self, process: subprocess.Popen[str], url: str, stderr_path: Path, feedback_path: Path
    ) -> None:
        self.process = process
        self.url = url
        self.stderr_path = stderr_path
        self.feedback_path = feedback_path
        self.client = httpx.Client(base_url=url, timeout=30)

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def live_server(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """Run ``bounce-ml serve ARGS`` until the block ends; wait until /readyz answers 200.

    The feedback store is a file in ``tmp_path`` unless ``env`` names another.
    """
    port = free_port()
    stderr_path = tmp_path / f"server-{port}.stderr"
    environment = {
        **os.environ,
        "BOUNCE_ML_FEEDBACK": str(tmp_path / "feedback.sqlite3"),
        **(env or {}),
    }
    feedback_path = Path(environment["BOUNCE_ML_FEEDBACK"])
    with open(stderr_path, "w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [BOUNCE_ML, "serve", "--port", str(port), *args],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=environment,
            text=True,
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", stderr_path, feedback_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        server.stop()


def _wait_until_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"bounce-ml serve exited early:\n{server.stderr()}")
        try:
            if server.client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"bounce-ml serve not ready in {START_TIMEOUT_S} s:\n{server.stderr()}")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """Poll ``condition`` until it holds (the service writes the review queue in the
    background)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
