"""The HTTP service, over real HTTP: a `bounce-ml serve` process on a loopback port."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import LiveServer, live_server
from typer.testing import CliRunner

from bounce_ml import BounceRecord, Classifier, config
from bounce_ml.cli import app

EMAILS = Path(__file__).parent / "fixtures" / "emails"
UU = (
    "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table"
)
MF = "552 5.2.2 <ann@example.org>: Mailbox full, quota exceeded"
ZH = "收件人郵箱已滿，郵件無法投遞"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("serve")
    with live_server(tmp_path, "--max-batch", "50", "--max-body-bytes", "200000") as running:
        yield running


def _cli_json(*args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["predict", "-f", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _as_texts(cli_rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """CLI rows for arguments, as the service numbers the items of ``texts`` (from 0)."""
    return [{**row, "source": "texts", "index": i} for i, row in enumerate(cli_rows)]


def test_classify_gives_the_cli_fields_in_order(server: LiveServer) -> None:
    response = server.client.post("/v1/classify", json={"texts": [UU, MF, ZH]})
    assert response.status_code == 200
    assert response.json()["results"] == _as_texts(_cli_json(UU, MF, ZH))


def test_classify_in_chinese(server: LiveServer) -> None:
    body = {"texts": [MF], "lang": "zh"}
    [result] = server.client.post("/v1/classify", json=body).json()["results"]
    assert result == _as_texts(_cli_json("--lang", "zh", MF))[0]
    assert result["action"] == Classifier(lang="zh").predict([MF])[0].action


def test_classify_records_the_status_fields_count(server: LiveServer) -> None:
    vague = "Requested action not taken"
    records = [
        {"text": vague, "status": "5.2.2", "reply_code": 552, "smtp_command": "RCPT"},
        {"text": vague},
        {"text": UU},
    ]
    response = server.client.post("/v1/classify", json={"records": records})
    assert response.status_code == 200
    results = response.json()["results"]
    expected = Classifier().predict_records(
        [
            BounceRecord(text=vague, status="5.2.2", reply_code="552", smtp_command="RCPT"),
            BounceRecord(text=vague),
        ]
    )
    assert [(r["label"], r["decided_by"]) for r in results[:2]] == [
        (p.label, p.decided_by) for p in expected
    ]
    assert results[0]["decided_by"] == "status" and results[0]["label"] == "mailbox_full"
    assert results[1]["label"] != "mailbox_full"
    assert (results[0]["status"], results[0]["reply_code"], results[0]["smtp_command"]) == (
        "5.2.2",
        "552",
        "RCPT",
    )
    # codes a record leaves out are read from its text, as for a plain text
    assert (results[2]["status"], results[2]["reply_code"]) == ("5.1.1", "550")
    assert [(r["source"], r["index"]) for r in results] == [("records", i) for i in range(3)]


def test_an_email_gives_one_result_per_recipient_as_predict_input(server: LiveServer) -> None:
    path = EMAILS / "exim_prose_syntax_and_unroutable.eml"
    response = server.client.post(
        "/v1/emails", content=path.read_bytes(), headers={"content-type": "message/rfc822"}
    )
    assert response.status_code == 200
    expected = _cli_json("--input", str(path))
    results = response.json()["results"]
    assert len(results) == len(expected) >= 2
    for got, want in zip(results, expected, strict=True):
        assert got == {**want, "source": "body"}


def test_a_json_list_of_base64_messages(server: LiveServer) -> None:
    paths = [EMAILS / "netease163_gbk_quoted_printable.eml", EMAILS / "exim_dsn_relay_denied.eml"]
    messages = [base64.b64encode(path.read_bytes()).decode() for path in paths]
    response = server.client.post("/v1/emails", json={"messages": messages, "lang": "zh"})
    assert response.status_code == 200
    results = response.json()["results"]
    expected = [row for path in paths for row in _cli_json("--lang", "zh", "--input", str(path))]
    assert [(r["source"], r["index"]) for r in results] == [
        (f"messages[{i}]", i) for i, path in enumerate(paths) for _ in _cli_json("-i", str(path))
    ]
    assert [r["label"] for r in results] == [r["label"] for r in expected]
    assert [r["action"] for r in results] == [r["action"] for r in expected]


def test_labels_model_health_and_docs(server: LiveServer) -> None:
    labels = server.client.get("/v1/labels").json()["labels"]
    assert labels[0]["label"] == "user_unknown" and labels[0]["name_zh"] == "收件人不存在"
    model = server.client.get("/v1/model").json()
    metadata = json.loads((config.MODELS_DIR / "metadata.json").read_text(encoding="utf-8"))
    for field in ("created", "data_hash", "labels", "rows", "threshold", "features"):
        assert model[field] == metadata[field]
    assert model["metrics_cv"] == metadata.get("metrics_cv")
    assert server.client.get("/healthz").json() == {"status": "ok"}
    assert server.client.get("/readyz").json() == {"status": "ready"}
    assert server.client.get("/docs").status_code == 200
    spec = server.client.get("/openapi.json").json()
    assert {"/v1/classify", "/v1/emails", "/v1/model/reload"} <= set(spec["paths"])


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"texts": [1]}, 422, "texts[0]: Input should be a valid string"),
        ({"texts": "one"}, 422, "texts: Input should be a valid list"),
        ({}, 422, "body: give either 'texts' or 'records'"),
        ({"texts": [UU], "lang": "fr"}, 422, "lang: Input should be 'en' or 'zh'"),
        ({"records": [{"text": UU, "reply_code": 99}]}, 422, "records[0].reply_code: "),
        ({"records": [{"txt": UU}]}, 422, "records[0].text: Field required"),
        ({"texts": []}, 422, "texts: give at least one item"),
        ({"texts": ["x"] * 51}, 413, "texts: 51 items, the limit is 50"),
    ],
)
def test_bad_classify_bodies_get_a_4xx_naming_the_field(
    server: LiveServer, body: object, status: int, message: str
) -> None:
    response = server.client.post("/v1/classify", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error.startswith(message) and "\n" not in error


@pytest.mark.parametrize(
    ("path", "content", "content_type", "status", "message"),
    [
        ("/v1/classify", b"{not json", "application/json", 400, "body: not valid JSON"),
        ("/v1/classify", b"x" * 200_001, "application/json", 413, "request body larger than"),
        ("/v1/emails", b"", "message/rfc822", 422, "body: empty message"),
        ("/v1/emails", b"\x00\x01 junk", "message/rfc822", 422, "body: no header fields"),
        ("/v1/emails", b'{"messages": ["***"]}', "application/json", 422, "messages[0]: not valid"),
        ("/v1/emails", b'{"messages": 3}', "application/json", 422, "messages: Input should be"),
        ("/v1/emails", b"{", "application/json", 400, "body: not valid JSON"),
        ("/v1/emails", b"hello", "image/png", 415, "content-type: send message/rfc822"),
    ],
)
def test_bad_bodies_get_a_4xx_with_one_line(
    server: LiveServer, path: str, content: bytes, content_type: str, status: int, message: str
) -> None:
    response = server.client.post(path, content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.json()["error"].startswith(message)


def test_a_chunked_body_is_held_to_the_size_limit(server: LiveServer) -> None:
    chunks = (b'{"texts": ["' + b"x" * 50_000 for _ in range(5))  # no Content-Length
    response = server.client.post(
        "/v1/classify", content=chunks, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_access_log_is_one_json_line_per_request_with_latency(server: LiveServer) -> None:
    server.client.get("/healthz?probe=access-log")
    lines = [line for line in server.stderr().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    health = [e for e in entries if e["path"] == "/healthz"]
    assert health and health[-1]["status"] == 200 and health[-1]["method"] == "GET"
    assert all(isinstance(e["ms"], float) and e["ms"] >= 0 for e in entries)
    assert {e["status"] for e in entries} >= {200, 413, 422}


def test_api_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("s3cret-key\n", encoding="utf-8")
    with live_server(tmp_path, "--api-key-file", str(key_file)) as server:
        body = {"texts": [UU]}
        missing = server.client.post("/v1/classify", json=body)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = {"Authorization": "Bearer s3cret-kez"}
        assert server.client.post("/v1/classify", json=body, headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret-key"}
        response = server.client.post("/v1/classify", json=body, headers=right)
        assert response.json()["results"][0]["label"] == "user_unknown"
        assert server.client.get("/v1/labels").status_code == 401
        assert server.client.post("/v1/model/reload").status_code == 401
        assert server.client.post("/v1/model/reload", headers=right).status_code == 200
        assert server.client.get("/healthz").status_code == 200  # probes need no key
        assert server.client.get("/").status_code == 200  # the page asks for the key


def test_api_key_from_the_environment(tmp_path: Path) -> None:
    with live_server(tmp_path, env={"BOUNCE_ML_API_KEY": "from-env"}) as server:
        assert server.client.get("/v1/labels").status_code == 401
        headers = {"Authorization": "Bearer from-env"}
        assert server.client.get("/v1/labels", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--api-key-file", "no-such-key-file"],
            "no-such-key-file: cannot read the API key file (No such file or directory)",
        ),
        (
            ["--model", "no-such-model-dir"],
            "no-such-model-dir: no trained model here (run `bounce-ml train`)",
        ),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["serve", *args])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"bounce-ml: error: {message}"]
