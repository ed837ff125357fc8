"""POST /v1/classify for ordinary requests, without FastAPI's per-request machinery.

FastAPI's routing, dependency solving and body handling take about 180 µs of CPU a
request, three times the work of classifying one text whose wording was seen before,
and a mail platform sends single texts by the thousand. So a request that is plainly
in order (a JSON content type, the API key when the service has one, a model loaded,
a body that is a valid `ClassifyRequest` within the batch limit) is answered here, with
the bytes the route would send. Any other request goes on to the FastAPI route, which
answers it, errors included, as it always has: this middleware only ever answers 200.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from pydantic import TypeAdapter
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bounce_ml.serve import schemas
from bounce_ml.serve.middleware import replaying
from bounce_ml.serve.models import ModelSlot, ServedModel
from bounce_ml.serve.settings import Settings

CLASSIFY_PATH = "/v1/classify"
# FastAPI writes a response model's JSON with the model's TypeAdapter; so does this.
_RESULTS = TypeAdapter(schemas.Results)

Classify = Callable[[schemas.ClassifyRequest, ServedModel], schemas.Results]


class ClassifyShortcut:
    """Answer well-formed POST /v1/classify requests with ``classify``; pass on the rest."""

    def __init__(self, app: ASGIApp, classify: Classify, slot: ModelSlot, settings: Settings):
        self.app = app
        self.classify = classify
        self.slot = slot
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        model = self.slot.current  # taken once: a reload meanwhile does not change it
        if model is None or not self._ordinary(scope):
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        if body is None:  # the client went away
            return
        results = self._results(body, model)
        if results is None:
            await self.app(scope, replaying(body, receive), send)
            return
        response = Response(_RESULTS.dump_json(results), media_type="application/json")
        await response(scope, receive, send)

    def _ordinary(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != CLASSIFY_PATH:
            return False
        headers = Headers(scope=scope)
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        return media_type == "application/json" and self.settings.admits(
            headers.get("authorization", "")
        )

    def _results(self, body: bytes, model: ServedModel) -> schemas.Results | None:
        """The answer, or None when the route must answer (with an error)."""
        try:
            request = schemas.ClassifyRequest.model_validate(json.loads(body))
        except Exception:  # not JSON, invalid, too deep...: the route says what and where
            return None
        try:
            return self.classify(request, model)
        except HTTPException:  # over the batch limit, or empty
            return None


async def _whole_body(receive: Receive) -> bytes | None:
    """The request body, or None if the client disconnected first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
