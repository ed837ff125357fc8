"""Hostile shapes that used to stall the email reader (issue 16, points 1-5) now finish in
linear time. The budget is generous: these guard against quadratic or worse blow-ups, not
against a slow machine. `make bench` measures the real times."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounce_ml.mail.emails import parse_bounce
from bounce_ml.mail.html import html_to_text

HEADERS = b"From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail\n"
BUDGET_SECONDS = 5.0

SHAPES = {
    # A recipient line, then a line of dashes ending in "x" (the section-line regex).
    "dashes": HEADERS
    + b"\n<bob@example.com>: host mx said: 550 5.1.1 user unknown\n"
    + b"-" * 200_000
    + b"x\n",
    # A body line of spaces ending in "x" (the original-message marker regex).
    "spaces": HEADERS + b"\n550 5.1.1 user unknown\n" + b" " * 400_000 + b"x\n",
    # An HTML part of "</" (the standard library's HTML parser).
    "html": HEADERS + b"Content-Type: text/html\n\n<p>550 5.1.1 user unknown</p>" + b"</" * 200_000,
    # A Subject of RFC 2047 encoded words (decode_header).
    "subject": b"From: MAILER-DAEMON@mx.example\nSubject: "
    + b"=?utf-8?q?a?= " * 200_000
    + b"\n\n550 5.1.1 user unknown\n",
    # "recipient:" repeated over 200 KB (the recipient field pattern).
    "recipient": HEADERS + b"\n550 5.1.1 user unknown\n" + b"recipient:" * 20_000 + b"\n",
    # Runs of one character, repeated tokens and nested brackets in a prose report.
    "at-signs": HEADERS + b"\n" + b"@-" * 100_000 + b"\n",
    "brackets": HEADERS + b"\n" + b"<" * 100_000 + b">" * 100_000 + b"\n",
    "addresses": HEADERS + b"\n" + b"a@b.c " * 40_000 + b"\n",
    "transcript": HEADERS + b"\n" + b"<<< 550-5.1.1 x\n" * 20_000,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_hostile_shape_is_read_quickly(name: str) -> None:
    start = time.perf_counter()
    records = parse_bounce(SHAPES[name])
    assert time.perf_counter() - start < BUDGET_SECONDS
    assert records  # every message gives at least one record


@pytest.mark.parametrize("name", ["dashes", "spaces", "html", "recipient"])
def test_hostile_shape_still_gives_the_error(name: str) -> None:
    [record] = parse_bounce(SHAPES[name])
    assert record.status == "5.1.1"
    assert "user unknown" in record.text


def test_html_text_keeps_blocks_and_drops_hidden_parts() -> None:
    markup = (
        "<html><head><title>NDR</title><style>p {color: red}</style></head><body>"
        "<p>Delivery has failed</p><div>550 5.1.1 &lt;bob@example.org&gt; User unknown<br>"
        "</div><!-- a comment --><script>alert(1)</script>a &lt; b</body></html>"
    )
    lines = [line.strip() for line in html_to_text(markup).splitlines() if line.strip()]
    assert lines == [
        "Delivery has failed",
        "550 5.1.1 <bob@example.org> User unknown",
        "a < b",
    ]


PIECES = [
    b"-", b" ", b"\t", b"</", b"<", b">", b"@-", b"a@", b"a@b.", b"recipient:", b"550 ",
    b"5.1.1 ", b"<<< 550-", b">>> RCPT To:<", b"(", b"[", b"=?utf-8?q?a?= ", b"\xe6\x94\xb6",
    b"Subject: ", b"---- x ----\n", b"\n",
]  # fmt: skip


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=3),
    where=st.sampled_from(["body", "subject", "html"]),
)
def test_generated_adversarial_messages_stay_within_budget(pieces: list[bytes], where: str) -> None:
    run = b"".join(pieces)
    filler = (run * (64 * 1024 // len(run) + 1))[: 64 * 1024]
    if where == "subject":
        raw = (
            b"From: MAILER-DAEMON@mx.example\nSubject: " + filler.replace(b"\n", b" ") + b"\n\nx\n"
        )
    elif where == "html":
        raw = HEADERS + b"Content-Type: text/html\n\n" + filler
    else:
        raw = HEADERS + b"\n" + filler
    start = time.perf_counter()
    assert parse_bounce(raw)
    assert time.perf_counter() - start < BUDGET_SECONDS
