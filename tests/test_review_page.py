"""The review page in a real headless browser against a real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, chromium
from live_server import LiveServer, live_server, wait_for
from playwright.sync_api import Page

from bounce_ml import Classifier
from bounce_ml.feedback.store import FeedbackStore

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)"
    ),
]
EMAILS = Path(__file__).parent / "fixtures" / "emails"
UNSURE = "Delivery to <ann@example.org> stopped: the frobnicator declined it"
UU = (
    "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table"
)
MF = "552 5.2.2 <ann@example.org>: Mailbox full, quota exceeded"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("page")) as running:
        yield running


def _open(context_page: Page, url: str) -> Page:
    context_page.goto(url)
    context_page.wait_for_selector("body[data-ready=true]")
    return context_page


def test_pasted_texts_are_classified_with_evidence_highlighted(server: LiveServer) -> None:
    with chromium() as browser:
        page = _open(browser.new_page(), server.url)
        page.fill("#texts", f"{UU}\n\n{MF}\n")
        page.click("#classify-button")
        page.wait_for_selector(".result >> nth=1")
        cards = page.locator(".result")
        assert cards.count() == 2
        expected = Classifier().predict([UU, MF])
        for i, prediction in enumerate(expected):
            card = cards.nth(i)
            assert card.locator(".label-id").inner_text() == prediction.label
            assert card.locator(".names").inner_text() == (
                f"{prediction.name_en} · {prediction.name_zh}"
            )
            assert card.locator(".action").inner_text() == prediction.action
            assert f"{prediction.confidence:.2f}" in card.locator(".confidence").inner_text()
        marks = cards.nth(0).locator("mark").all_inner_texts()
        assert marks and all(mark.lower() in UU.lower() for mark in marks)
        assert "unknown" in [mark.lower() for mark in marks]


def test_a_dropped_eml_file_is_classified(server: LiveServer) -> None:
    path = EMAILS / "netease163_gbk_quoted_printable.eml"
    with chromium() as browser:
        page = _open(browser.new_page(), server.url)
        page.set_input_files("#eml-input", str(path))
        page.wait_for_selector(".result")
        card = page.locator(".result").first
        assert card.locator(".label-id").inner_text() == "mailbox_full"
        assert "xiaoming@example.net" in card.locator(".where").inner_text()


@pytest.mark.parametrize(("url", "locale"), [("/?lang=zh", "en-US"), ("/", "zh-CN")])
def test_the_page_speaks_chinese(server: LiveServer, url: str, locale: str) -> None:
    with chromium(locale=locale) as browser:
        page = _open(browser.new_page(), server.url + url)
        assert page.locator("#classify-button").inner_text() == "分类"
        page.fill("#texts", MF)
        page.click("#classify-button")
        page.wait_for_selector(".result")
        action = Classifier(lang="zh").predict([MF])[0].action
        assert page.locator(".result .action").inner_text() == action
        assert page.locator(".result dt").first.inner_text() == "处理建议"
        assert "由模型判定" in page.locator(".result .confidence").inner_text()


def _labeled(server: LiveServer) -> set[tuple[str, str]]:
    with FeedbackStore(server.feedback_path) as store:
        return {(row.text, row.label) for row in store.labeled_rows()}


def test_correcting_a_label_stores_it_in_the_feedback_store(server: LiveServer) -> None:
    with chromium() as browser:
        page = _open(browser.new_page(), server.url)
        page.fill("#texts", MF)
        page.click("#classify-button")
        card = page.locator(".result").first
        card.locator(".correct").select_option("rate_limited")
        page.wait_for_selector(".result[data-saved=rate_limited]")
        assert "rate_limited" in card.locator(".saved").inner_text()
    assert (MF, "rate_limited") in _labeled(server)


def test_one_click_in_the_review_queue_labels_the_wording(server: LiveServer) -> None:
    server.client.post("/v1/classify", json={"texts": [UNSURE]})
    with chromium() as browser:
        page = _open(browser.new_page(), server.url)
        wait_for(lambda: _reload_until_queued(page), "the unsure text in the review queue")
        group = page.locator("#queue li", has_text=UNSURE)
        label = group.locator("button").first.get_attribute("data-label")
        assert label
        group.locator("button").first.click()
        page.wait_for_selector("#queue li.done")
    assert (UNSURE, label) in _labeled(server)


def _reload_until_queued(page: Page) -> bool:
    page.click("#review-refresh")
    page.wait_for_timeout(200)
    return page.locator("#queue li", has_text=UNSURE).count() == 1


def test_screenshot_of_the_page(server: LiveServer, tmp_path: Path) -> None:
    """The README's picture: `make screenshot` sets BOUNCE_ML_SCREENSHOT to docs/review-page.png."""
    target = Path(os.environ.get("BOUNCE_ML_SCREENSHOT") or tmp_path / "review-page.png")
    queued = [
        "Your note to <ann@example.org> bounced off the archive tower",
        "Your note to <lee@example.com> bounced off the archive tower",
        "Your note to <kim@example.net> bounced off the archive tower",
        "mail for <cy@example.com> could not be handed over to gateway 7",
        "收件人 wang@example.cn 的邮件处理异常，请联系管理员",
    ]
    server.client.post("/v1/classify", json={"texts": queued})
    wait_for(lambda: len(server.client.get("/v1/review").json()["groups"]) >= 3, "the queue")
    with chromium() as browser:
        page = _open(browser.new_page(), server.url)
        page.fill(
            "#texts",
            "\n".join([UU, "你发送到 li.na@163.com 的邮件由于以下原因被退回：收件人邮箱已满", MF]),
        )
        page.click("#classify-button")
        page.wait_for_selector(".result >> nth=2")
        page.wait_for_selector("#queue li >> nth=2")
        page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes().startswith(b"\x89PNG") and target.stat().st_size > 20_000
