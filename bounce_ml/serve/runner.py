"""Start the service with uvicorn, as ``bounce-ml serve`` does."""

from __future__ import annotations

import os
import sys
from ipaddress import ip_address
from pathlib import Path

from bounce_ml import config
from bounce_ml.feedback.store import FeedbackStore
from bounce_ml.predict.artifacts import load_model
from bounce_ml.serve import settings as env

DEFAULT_HOST = "127.0.0.1"
MODEL_LOAD_TIMEOUT_S = 120


def serve(
    *,
    host: str | None,
    port: int,
    workers: int,
    model_dir: Path | None,
    api_key_file: Path | None,
    feedback: Path | None,
    max_body_bytes: int | None,
    max_batch: int | None,
) -> None:
    """Check the settings and the model, then serve until stopped (Ctrl+C or SIGTERM).

    Without an API key the service binds to loopback unless ``host`` is given;
    given a public ``host`` without a key, it warns that anyone can use it.
    """
    import uvicorn

    options = {
        env.MODEL_VARIABLE: model_dir,
        env.API_KEY_FILE_VARIABLE: api_key_file,
        env.MAX_BODY_VARIABLE: max_body_bytes,
        env.MAX_BATCH_VARIABLE: max_batch,
        env.FEEDBACK_VARIABLE: feedback,
        env.WORKERS_VARIABLE: workers,
    }
    given = {variable: str(value) for variable, value in options.items() if value is not None}
    settings = env.Settings.from_env({**os.environ, **given})
    # A bad model or feedback store is one line here, before binding, not a failed start-up.
    load_model(settings.model_dir or config.MODELS_DIR)
    FeedbackStore(settings.feedback_path).close()
    host = host or DEFAULT_HOST
    if settings.api_key is None and not _loopback(host):
        print(
            f"bounce-ml: warning: serving on {host} without an API key: anyone who can reach "
            f"this address can use the service (give --api-key-file)",
            file=sys.stderr,
        )
    os.environ.update(given)  # where the app factory (in each worker) reads its settings
    uvicorn.run(
        "bounce_ml.serve.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # the app writes its own JSON access log
        # asyncio's own loop, not uvloop even when installed: at 16 clients uvloop lowered
        # the median latency but raised the 99th percentile (bench/service_load.py). The
        # HTTP parser is uvicorn's choice: httptools (in the serve extra), else h11.
        loop="asyncio",
        # On SIGHUP a new worker must load the model before it replaces an old one.
        timeout_worker_healthcheck=MODEL_LOAD_TIMEOUT_S,
        log_level="info",
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:  # a host name
        return False
