"""Property-based requests generated from the OpenAPI description: none gets a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from live_server import LiveServer, live_server
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from bounce_ml.serve.app import create_app
from bounce_ml.serve.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("schema"), "--max-batch", "20") as running:
        yield running


# Raw messages are sent as the bytes generated for them, as for any binary body.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")
# The description does not depend on the settings; the requests go to the live server

# (the app is not started, so its feedback store is never opened).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(feedback_path=Path("not-opened.sqlite3"))).openapi()
)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_gets_a_server_error(case: schemathesis.Case, server: LiveServer) -> None:
    # Every answer is checked: never a 5xx, and a 2xx body matches its documented schema.
    case.call_and_validate(
        base_url=server.url, checks=[not_a_server_error, response_schema_conformance]
    )
