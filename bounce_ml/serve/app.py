"""The FastAPI application: routes, the model's lifespan, authentication and the page.

Classification runs on the event loop thread itself: it is CPU work that holds
the GIL either way, and one thread means a Classifier (whose cache is a plain
dict) is never used by two requests at once. Loading a model for a reload runs
in a worker thread, so requests go on being served meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import os
import secrets
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from ipaddress import ip_address
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from bounce_ml.errors import BounceMLError
from bounce_ml.feedback.review import candidate, needs_review
from bounce_ml.feedback.store import FeedbackStore
from bounce_ml.mail.emails import BrokenMessageError, parse_bounce
from bounce_ml.mail.records import BounceRecord
from bounce_ml.mail.smtp import text_record
from bounce_ml.predict.classifier import Classifier
from bounce_ml.predict.output import result_row, writable_row
from bounce_ml.serve import errors, schemas
from bounce_ml.serve.feedback import ReviewRecorder
from bounce_ml.serve.middleware import AccessLog, BodyLimit
from bounce_ml.serve.models import ModelSlot, ServedModel
from bounce_ml.serve.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
FEEDBACK_ORIGIN = "web"  # the feedback store's origin of labels given through the service
T = TypeVar("T")
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.Error} for code in (400, 401, 403, 413, 422)
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service; without ``settings`` they are read from the environment (for workers)."""
    settings = settings or Settings.from_env()
    slot = ModelSlot(settings.model_dir)
    recorder = ReviewRecorder(settings.feedback_path)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(slot.reload)
        await run_in_threadpool(lambda: FeedbackStore(settings.feedback_path).close())
        recorder.start()
        _reload_on_sighup(slot)
        yield
        await run_in_threadpool(recorder.stop)

    app = FastAPI(
        title="bounce-ml",
        summary="Say what went wrong with a bounced email, how sure, and what to do.",
        version="1",
        lifespan=lifespan,
        responses=_ERRORS,
    )
    errors.install(app)
    app.state.settings = settings
    app.state.slot = slot

    def check_batch(field: str, count: int) -> None:
        if count > settings.max_batch:
            raise HTTPException(413, f"{field}: {count} items, the limit is {settings.max_batch}")
        if count == 0:
            raise HTTPException(422, f"{field}: give at least one item")

    @app.post("/v1/classify", dependencies=SECURED, tags=["classify"])
    async def classify(body: schemas.ClassifyRequest, model: Model) -> schemas.Results:
        """Classify bounce texts (or records with their status fields), in order.

        Each result has the same fields as `bounce-ml predict -f json`.
        """
        if body.records is not None:
            check_batch("records", len(body.records))
            records = [_given_record(record, i) for i, record in enumerate(body.records)]
        else:
            texts = body.texts or []
            check_batch("texts", len(texts))
            records = [text_record(text, source="texts", index=i) for i, text in enumerate(texts)]
        results = _classified(model.classifiers[body.lang], records, recorder)
        return schemas.Results.model_validate({"results": results})

    @app.post(
        "/v1/emails",
        dependencies=SECURED,
        tags=["classify"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": schemas.EmailsRequest.model_json_schema()},
                },
            }
        },
    )
    async def emails(request: Request, model: Model, lang: schemas.Lang = "en") -> schemas.Results:
        """Classify bounce messages: one result per failed recipient, as `predict --input`.

        Send one raw message as `message/rfc822`, or JSON `{"messages": [base64, ...]}`.
        """
        body = await request.body()
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                parsed = schemas.EmailsRequest.model_validate_json(body)
            except ValidationError as exc:
                status, message = errors.one_line(
                    [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
                )
                raise HTTPException(status, message) from None
            check_batch("messages", len(parsed.messages))
            raw = [_base64(text, f"messages[{i}]") for i, text in enumerate(parsed.messages)]
            lang = parsed.lang
        elif kind in ("message/rfc822", "application/octet-stream", "text/plain"):
            raw = [body]
        else:
            raise HTTPException(415, "content-type: send message/rfc822 or application/json")
        records = [
            record
            for i, message in enumerate(raw)
            for record in _bounce_records(message, i, many=kind == "application/json")
        ]
        results = _classified(model.classifiers[lang], records, recorder)
        return schemas.Results.model_validate({"results": results})

    @app.get("/v1/labels", dependencies=SECURED, tags=["model"])
    async def labels() -> schemas.Labels:
        """The bounce categories with their code, names, severity and action."""
        return schemas.Labels(
            labels=[
                schemas.LabelInfo(
                    label=label.id,
                    code=label.code,
                    name_en=label.name_en,
                    name_zh=label.name_zh,
                    severity=label.severity,
                    retry=label.retry,
                    action_en=label.action,
                    action_zh=label.action_zh,
                )
                for label in slot.taxonomy.labels.values()
            ]
        )

    @app.get("/v1/model", dependencies=SECURED, tags=["model"])
    async def model_info(model: Model) -> schemas.ModelInfo:
        """The served model: label set, data hash, creation time, cross-validation metrics."""
        return schemas.ModelInfo.model_validate(model.describe())

    @app.post(
        "/v1/model/reload",
        dependencies=SECURED,
        tags=["model"],
        responses={202: {"model": schemas.ModelInfo, "description": "Workers being replaced"}},
    )
    async def reload(request: Request, response: Response) -> schemas.ModelInfo:
        """Load the model directory again and swap it in; a bad model is refused (409) and
        the old one keeps serving. Requests in flight finish on the old model.

        With several workers (`--workers N`), the worker that answers loads the model and,
        if it loads, asks the main process to replace every worker one at a time, as
        SIGHUP does: the answer is then 202, and the others follow within seconds.

        Without an API key this is allowed from the loopback interface only.
        """
        if settings.api_key is None and not _is_loopback(request):
            raise HTTPException(403, "reload: allowed from loopback only when no API key is set")
        try:
            fresh = await run_in_threadpool(slot.reload)
        except BounceMLError as exc:
            message = f"model not reloaded, still serving the old one: {exc}"
            raise HTTPException(409, message) from None
        if settings.workers > 1:
            os.kill(os.getppid(), signal.SIGHUP)  # uvicorn's supervisor replaces the workers
            response.status_code = 202
        return schemas.ModelInfo.model_validate(fresh.describe())

    @app.get("/v1/review", dependencies=SECURED, tags=["feedback"])
    async def review_queue(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> schemas.ReviewQueue:
        """Bounces waiting for a person's label, grouped by normalised wording, most
        frequent first: the predictions that were unknown or unsure."""
        groups = await run_in_threadpool(
            _with_store, settings.feedback_path, lambda store: store.review_queue(limit)
        )
        return schemas.ReviewQueue.model_validate(
            {"groups": [dataclasses.asdict(group) for group in groups]}
        )

    @app.post("/v1/feedback", dependencies=SECURED, tags=["feedback"])
    async def add_label(body: schemas.LabelRequest) -> schemas.Stored:
        """Store a person's label for a text (a confirmation or a correction); queued
        bounces of the same wording get it too. `bounce-ml train --feedback` learns it."""
        row_id = await run_in_threadpool(
            _with_store,
            settings.feedback_path,
            lambda store: store.add_label(
                body.text,
                body.label,
                status=body.status,
                reply_code=body.reply_code,
                origin=FEEDBACK_ORIGIN,
                author=body.author,
                predicted_label=body.predicted_label,
                predicted_confidence=body.predicted_confidence,
            ),
        )
        return schemas.Stored(id=row_id)

    @app.post("/v1/review/resolve", dependencies=SECURED, tags=["feedback"])
    async def resolve(body: schemas.ResolveRequest) -> schemas.Resolved:
        """Label every queued bounce of one wording (a review group's key)."""
        labeled = await run_in_threadpool(
            _with_store,
            settings.feedback_path,
            lambda store: store.resolve(
                body.key, body.label, origin=FEEDBACK_ORIGIN, author=body.author
            ),
        )
        return schemas.Resolved(labeled=labeled)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> schemas.Status:
        """The process is up."""
        return schemas.Status(status="ok")

    @app.get("/readyz", tags=["health"], responses={503: {"model": schemas.Error}})
    async def readyz(model: Model) -> schemas.Status:
        """A model is loaded and requests are being classified."""
        return schemas.Status(status="ready")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLog)  # added last: outermost, so it times everything
    return app


# The dependencies are `async def` although they never wait: FastAPI runs a plain `def`
# dependency in its thread pool: each request hopped to a worker thread and back twice,
# a thread switch and a wait for the GIL each time. That was a third of a classification
# request's CPU time, and its slowest percentile at 16 clients.


async def served(request: Request) -> ServedModel:
    """The model being served (a dependency: taken once, kept for the whole request)."""
    model = request.app.state.slot.current
    if model is None:
        raise HTTPException(503, "the model is still loading")
    return model


async def authorised(request: Request) -> None:
    """Refuse a request without the right bearer token, when the service has an API key."""
    key: str | None = request.app.state.settings.api_key
    if key is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # compare_digest takes as long whatever the key's first wrong byte: no timing leak
    matches = secrets.compare_digest(given.strip().encode(), key.encode())
    if scheme.lower() != "bearer" or not matches:
        raise HTTPException(
            401,
            "missing or wrong API key (send 'Authorization: Bearer <key>')",
            {"WWW-Authenticate": "Bearer"},
        )


Model = Annotated[ServedModel, Depends(served)]
SECURED = [Depends(authorised)]


def _classified(
    classifier: Classifier, records: list[BounceRecord], recorder: ReviewRecorder
) -> list[dict[str, Any]]:
    """Output rows of the records, as `predict` writes them; the unsure are queued for review."""
    predictions = classifier.predict_records(records)
    pairs = list(zip(records, predictions, strict=True))
    recorder.submit([candidate(record, p) for record, p in pairs if needs_review(p)])
    # As `predict` writes them: lone surrogates (from JSON escapes) replaced, and noted.
    return [writable_row(result_row(record, prediction)) for record, prediction in pairs]


def _given_record(record: schemas.Record, index: int) -> BounceRecord:
    """The record a client sent; codes it leaves out are read from its text, as for a line."""
    from_text = text_record(record.text, source="records", index=index)
    reply_code = None if record.reply_code is None else str(record.reply_code)
    return dataclasses.replace(
        from_text,
        status=record.status or from_text.status,
        reply_code=reply_code or from_text.reply_code,
        smtp_command=record.smtp_command or from_text.smtp_command,
    )


def _with_store(path: Path, action: Callable[[FeedbackStore], T]) -> T:
    """Run ``action`` on a connection to the feedback store opened for this call only."""
    try:
        with FeedbackStore(path) as store:
            return action(store)
    except BounceMLError as exc:
        raise HTTPException(422, str(exc)) from None
    except sqlite3.OperationalError as exc:  # locked for longer than the store waits
        raise HTTPException(503, f"feedback store busy, try again: {exc}") from None


def _base64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, f"{field}: not valid base64") from None


def _bounce_records(message: bytes, index: int, *, many: bool) -> list[BounceRecord]:
    where = f"messages[{index}]" if many else "body"
    try:
        return parse_bounce(message, source=where, index=index if many else None)
    except BrokenMessageError as exc:
        raise HTTPException(422, f"{where}: {exc}") from None


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _reload_on_sighup(slot: ModelSlot) -> None:
    """SIGHUP reloads the model like POST /v1/model/reload (main thread only: a server run
    in a thread, as in tests, has no signals)."""
    loop = asyncio.get_running_loop()

    async def reload() -> None:
        try:
            await run_in_threadpool(slot.reload)
            print("bounce-ml: SIGHUP: model reloaded", file=sys.stderr, flush=True)
        except BounceMLError as exc:
            print(f"bounce-ml: SIGHUP: model not reloaded: {exc}", file=sys.stderr, flush=True)

    running: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    def start_reload() -> None:
        task = loop.create_task(reload())
        running.add(task)
        task.add_done_callback(running.discard)

    with contextlib.suppress(RuntimeError, ValueError, NotImplementedError):
        loop.add_signal_handler(signal.SIGHUP, start_reload)
