"""Swapping the served model while requests keep coming: POST /v1/model/reload and SIGHUP."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from live_server import LiveServer, live_server, wait_for

from bounce_ml import config
from bounce_ml.predict.artifacts import METADATA_FILE, PIPELINE_FILE, SCORER_FILE
from bounce_ml.train.fit import train_model

TEXTS = ["552 5.2.2 Mailbox full, quota exceeded", "550 5.1.1 User unknown", "收件人不存在"]


def _copy_model(target: Path) -> Path:
    target.mkdir()
    _copy_model_files(target)
    return target


def _copy_model_files(target: Path) -> None:
    for name in (SCORER_FILE, PIPELINE_FILE, METADATA_FILE):
        shutil.copy2(config.MODELS_DIR / name, target / name)


def _set_created(model_dir: Path, created: str) -> None:
    """Mark the model as another one (the files and their hashes stay valid)."""
    path = model_dir / METADATA_FILE
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["created"] = created
    path.write_text(json.dumps(metadata), encoding="utf-8")


@contextmanager
def _traffic(server: LiveServer) -> Iterator[Counter[int]]:
    """Classify without pause from another thread; yields the status codes seen (0 for an
    answer with the wrong label)."""
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def run() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                response = client.post("/v1/classify", json={"texts": TEXTS})
                right = response.status_code != 200 or (
                    response.json()["results"][0]["label"] == "mailbox_full"
                )
                statuses[response.status_code if right else 0] += 1

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        thread.join()


def _created(server: LiveServer) -> str:
    return str(server.client.get("/v1/model").json()["created"])


def _created_anew(server: LiveServer) -> str:
    """As `_created`, on a new connection: a kept-alive one dies with the worker it reached."""
    for _ in range(10):  # a worker being retired may reset a connection it had accepted
        try:
            response = httpx.get(f"{server.url}/v1/model", headers={"Connection": "close"})
            return str(response.json()["created"])
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("no worker answered ten times in a row")


def test_reload_swaps_the_model_and_refuses_a_bad_one_while_serving(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path / "model")
    scorer = model_dir / SCORER_FILE
    good_scorer = scorer.read_bytes()
    with live_server(tmp_path, "--model", str(model_dir)) as server, _traffic(server) as seen:
        _set_created(model_dir, "2030-01-01T00:00:00+00:00")
        response = server.client.post("/v1/model/reload")
        assert response.status_code == 200
        assert response.json()["created"] == _created(server) == "2030-01-01T00:00:00+00:00"

        scorer.write_bytes(good_scorer + b"tampered")
        response = server.client.post("/v1/model/reload")
        assert response.status_code == 409
        assert response.json()["error"].startswith("model not reloaded, still serving the old")
        assert "SHA-256 does not match" in response.json()["error"]
        assert _created(server) == "2030-01-01T00:00:00+00:00"

        scorer.write_bytes(good_scorer)
        _set_created(model_dir, "2031-01-01T00:00:00+00:00")
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: _created(server) == "2031-01-01T00:00:00+00:00", "the SIGHUP reload")

        (model_dir / METADATA_FILE).write_text("{not json", encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP: model not reloaded" in server.stderr(), "the refusal")
        assert _created(server) == "2031-01-01T00:00:00+00:00"
        wait_for(lambda: sum(seen.values()) >= 20, "traffic during the reloads")
    assert set(seen) == {200}


@pytest.mark.slow
def test_a_newly_trained_model_is_served_after_reload(tmp_path: Path, small_data_dir: Path) -> None:
    model_dir = _copy_model(tmp_path / "model")
    with live_server(tmp_path, "--model", str(model_dir)) as server:
        assert len(server.client.get("/v1/model").json()["labels"]) > 4
        train_model(data_dir=small_data_dir, extra_files=[], model_dir=model_dir)
        response = server.client.post("/v1/model/reload")
        assert response.status_code == 200
        four = ["host_unknown", "mailbox_full", "message_too_large", "user_unknown"]
        assert sorted(server.client.get("/v1/model").json()["labels"]) == four
        results = server.client.post("/v1/classify", json={"texts": TEXTS}).json()["results"]
        assert {r["label"] for r in results} <= {*four, "unknown"}


@pytest.mark.slow
def test_with_workers_sighup_replaces_them_only_with_ones_that_load(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path / "model")
    with live_server(tmp_path, "--model", str(model_dir), "--workers", "2") as server:
        before = _created_anew(server)
        (model_dir / METADATA_FILE).write_text("{not json", encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "aborting the restart" in server.stderr(), "the refused restart", 60)
        assert _created_anew(server) == before
        _copy_model_files(model_dir)
        _set_created(model_dir, "2032-01-01T00:00:00+00:00")
        server.process.send_signal(signal.SIGHUP)
        wait_for(
            lambda: all(_created_anew(server) == "2032-01-01T00:00:00+00:00" for _ in range(6)),
            "both workers replaced",
            90,
        )
        results = server.client.post("/v1/classify", json={"texts": TEXTS}).json()["results"]
        assert results[0]["label"] == "mailbox_full"


@pytest.mark.slow
def test_with_workers_post_reload_replaces_every_worker(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path / "model")
    with live_server(tmp_path, "--model", str(model_dir), "--workers", "2") as server:
        (model_dir / METADATA_FILE).write_text("{not json", encoding="utf-8")
        refused = httpx.post(f"{server.url}/v1/model/reload", headers={"Connection": "close"})
        assert refused.status_code == 409  # checked before any worker is replaced
        assert "aborting the restart" not in server.stderr()
        _copy_model_files(model_dir)
        _set_created(model_dir, "2033-01-01T00:00:00+00:00")
        accepted = httpx.post(f"{server.url}/v1/model/reload", headers={"Connection": "close"})
        assert accepted.status_code == 202
        assert accepted.json()["created"] == "2033-01-01T00:00:00+00:00"
        wait_for(
            lambda: all(_created_anew(server) == "2033-01-01T00:00:00+00:00" for _ in range(6)),
            "both workers replaced",
            90,
        )
