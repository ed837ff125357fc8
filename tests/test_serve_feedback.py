"""Labels and the review queue through the service, kept in the feedback store across restarts."""

from __future__ import annotations

import json
from pathlib import Path

from live_server import LiveServer, live_server, wait_for
from typer.testing import CliRunner

from bounce_ml import Classifier
from bounce_ml.cli import app
from bounce_ml.feedback.review import needs_review
from bounce_ml.feedback.store import FeedbackStore

UNSURE = [
    "Delivery to <ann@example.org> stopped: the frobnicator declined it",
    "Delivery to <bob@example.net> stopped: the frobnicator declined it",
]
OTHER_UNSURE = "mail for <cy@example.com> could not be handed over to gateway 7"
SURE = "552 5.2.2 <ann@example.org>: Mailbox full, quota exceeded"


def _queue(server: LiveServer) -> list[dict[str, object]]:
    response = server.client.get("/v1/review")
    assert response.status_code == 200
    return response.json()["groups"]


def test_unsure_predictions_are_queued_by_wording_and_labels_survive_restarts(
    tmp_path: Path,
) -> None:
    predictions = Classifier().predict([*UNSURE, OTHER_UNSURE, SURE])
    assert [needs_review(p) for p in predictions] == [True, True, True, False]

    with live_server(tmp_path) as server:
        server.client.post("/v1/classify", json={"texts": [*UNSURE, OTHER_UNSURE, SURE]})
        wait_for(lambda: len(_queue(server)) == 2, "two review groups")
        groups = _queue(server)
        assert [group["count"] for group in groups] == [2, 1]  # most frequent first
        assert groups[0]["example"] == UNSURE[0] and groups[1]["example"] == OTHER_UNSURE
        top = groups[0]["top_labels"]
        assert top and top[0][0] == predictions[0].top_labels[0][0]

    with live_server(tmp_path) as server:  # the same store file after a restart
        groups = _queue(server)
        assert [group["count"] for group in groups] == [2, 1]
        resolved = server.client.post(
            "/v1/review/resolve", json={"key": groups[0]["key"], "label": "content_rejected"}
        )
        assert resolved.json() == {"labeled": 2}
        stored = server.client.post(
            "/v1/feedback",
            json={"text": SURE, "label": "mailbox_full", "predicted_label": "mailbox_full"},
        )
        assert stored.status_code == 200 and stored.json()["id"] > 0
        assert [group["example"] for group in _queue(server)] == [OTHER_UNSURE]

    with FeedbackStore(tmp_path / "feedback.sqlite3") as store:
        rows = {(row.text, row.label) for row in store.labeled_rows()}
        assert store.counts() == (3, 1)
    assert rows == {
        (UNSURE[0], "content_rejected"),
        (UNSURE[1], "content_rejected"),
        (SURE, "mailbox_full"),
    }


def test_bad_labels_are_refused_with_the_reason(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        response = server.client.post("/v1/feedback", json={"text": SURE, "label": "nonsense"})
        assert response.status_code == 422
        assert response.json()["error"].startswith("unknown label 'nonsense'")
        response = server.client.post("/v1/feedback", json={"text": "", "label": "mailbox_full"})
        assert response.json()["error"].startswith("text: String should have at least 1")
        response = server.client.get("/v1/review", params={"limit": 0})
        assert response.status_code == 422
        assert response.json()["error"].startswith("query parameter limit: ")
    with FeedbackStore(tmp_path / "feedback.sqlite3") as store:
        assert store.counts() == (0, 0)


def test_a_feedback_file_that_is_not_a_store_is_refused_before_serving(tmp_path: Path) -> None:
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("my notes\n" * 100, encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", "--feedback", str(not_a_store)])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"bounce-ml: error: {not_a_store}: not a bounce-ml feedback store")
    assert not_a_store.read_text(encoding="utf-8") == "my notes\n" * 100


def test_a_lone_surrogate_is_replaced_and_the_review_queue_keeps_working(tmp_path: Path) -> None:
    # JSON may carry "\ud800", which UTF-8 (the response, SQLite) cannot hold.
    broken = "\ud800 the frobnicator declined it"
    with live_server(tmp_path) as server:
        body = json.dumps({"texts": [broken]})  # json.dumps escapes it: valid JSON
        response = server.client.post(
            "/v1/classify", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 200
        [result] = response.json()["results"]
        assert result["text"] == "\ufffd the frobnicator declined it"
        assert result["note"] == "invalid characters replaced by U+FFFD"
        wait_for(lambda: len(_queue(server)) == 1, "the replaced text queued")
        server.client.post("/v1/classify", json={"texts": [OTHER_UNSURE]})
        wait_for(lambda: len(_queue(server)) == 2, "the queue writer still running")
    with FeedbackStore(tmp_path / "feedback.sqlite3") as store:
        examples = {group.example for group in store.review_queue()}
    assert examples == {"\ufffd the frobnicator declined it", OTHER_UNSURE}
