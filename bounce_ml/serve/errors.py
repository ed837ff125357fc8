"""Every error the service answers is JSON ``{"error": "<one line>"}`` naming the field.

FastAPI's own validation answer is a list of objects; clients and people read
one line more easily, so the handlers here turn the first problem into
``texts[2]: Input should be a valid string`` (and say how many more there are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

# Where a problem was found; the body is the default and is not named.
_PLACES = {"query": "query parameter ", "header": "header ", "path": "path "}


def field_name(location: Sequence[Any]) -> str:
    """``("body", "texts", 2)`` → ``texts[2]``; ``("query", "lang")`` → ``query parameter lang``.

    >>> field_name(("body", "records", 0, "reply_code"))
    'records[0].reply_code'
    """
    place, *path = location or ("body",)
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    if place in _PLACES:
        return _PLACES[place] + (name or "?")
    return name or "body"


def one_line(errors: Sequence[Any]) -> tuple[int, str]:
    """The status and message for a list of Pydantic/FastAPI validation errors."""
    first: dict[str, Any] = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "")
        return 400, f"body: not valid JSON ({reason})" if reason else "body: not valid JSON"
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return 422, f"{field_name(first.get('loc', ()))}: {message}{more}"


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(*one_line(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A bug, never the client's fault; the traceback goes to the server's log.
    return error_response(500, f"internal error ({type(exc).__name__}); see the server log")


def install(app: FastAPI) -> None:
    """Answer validation errors, HTTP errors and bugs with one JSON line."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
