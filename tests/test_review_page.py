"""The review page in a real headless browser against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, chromium
from live_server import LiveServer, live_server
from playwright.sync_api import Page

from bounce_ml import Classifier

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)"
    ),
]
EMAILS = Path(__file__).parent / "fixtures" / "emails"
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
