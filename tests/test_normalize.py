import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounce_ml import classify
from bounce_ml.text.normalize import MAX_TEXT_CHARS, mask_volatile, normalize_text, to_simplified
from bounce_ml.text.segment import Segmenter
from bounce_ml.text.tokenize import Tokenizer
from bounce_ml.tomlfile import read_toml


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("550 5.1.1 <Bob.Smith@Example.COM>: User unknown", "550 5.1.1 <email> : user unknown"),
        ("host mx1.mail.example.net[203.0.113.5] said:", "host <host>[ <ip> ] said:"),
        ("from 2001:db8::1 at", "from <ip> at"),
        ("see https://support.google.com/mail/?p=NoSuchUser", "see <url> mail p nosuchuser"),
        ("queue id 4F2A31C0123 dropped", "queue id <id> dropped"),
        ("size 7372800 bytes", "size <num> bytes"),
        ("listed in bl.spamcop.net", "listed in <host> spamcop"),
    ],
)
def test_volatile_parts_are_masked(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("code", ["550", "421", "552", "5.1.1", "4.7.0", "5.7.26"])
def test_status_codes_survive(code: str) -> None:
    assert code in normalize_text(f"{code} something happened").split()


def test_traditional_and_simplified_meet() -> None:
    assert normalize_text("郵件地址不存在") == normalize_text("邮件地址不存在")
    # the seed's conversion slips are repaired too
    assert to_simplified("請確認繫統地阯") == "请确认系统地址"


def test_nfkc_lowercase_and_whitespace() -> None:
    assert normalize_text("  ＵＳＥＲ　Unknown\n\t(#5.1.1) ") == "user unknown (#5.1.1)"


def test_control_characters_and_nul_become_spaces() -> None:
    assert normalize_text("user\x00unknown\x07") == "user unknown"


# ---------------------------------------------------------------- stability (issue 13, point 6)

_HEX = "0123456789abcdef"
_ids = st.one_of(
    st.integers(0, 10**12).map(lambda n: f"id{n}"),
    st.text(_HEX.upper(), min_size=10, max_size=12).filter(  # Postfix queue ids
        lambda s: any(c.isalpha() for c in s) and any(c.isdigit() for c in s)
    ),
    st.uuids().map(str),
    st.tuples(st.text(_HEX, min_size=6, max_size=6), st.text(_HEX, min_size=6, max_size=6)).map(
        lambda p: f"1{p[0]}-000{p[1]}-xy"  # Exim message ids
    ),
)
_hosts = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12), min_size=1, max_size=3
).map(lambda labels: ".".join([*labels, "example", "com"]))
_addresses = st.tuples(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20).filter(
        lambda s: s[0].isalnum()
    ),
    _hosts,
).map(lambda p: f"{p[0]}@{p[1]}")
_ips = st.ip_addresses().map(str)
# Any number but a bare 2xx-5xx, which reads as a reply code.
_numbers = st.integers(0, 10**9).filter(lambda n: not 200 <= n <= 599).map(str)
_datetimes = st.datetimes(datetime(1990, 1, 1), datetime(2099, 12, 31))
_syslog_dates = _datetimes.map(lambda d: d.strftime("%b %d %H:%M:%S"))
_rfc_dates = _datetimes.map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S +0800"))
_iso_dates = _datetimes.map(lambda d: d.isoformat())
_VOLATILE = {
    "id": _ids,
    "address": _addresses,
    "host": _hosts,
    "ip": _ips,
    "number": _numbers,
    "syslog_date": _syslog_dates,
    "rfc_date": _rfc_dates,
    "iso_date": _iso_dates,
}

TEMPLATES = [
    "421 4.7.0 try again later {id}",
    "{syslog_date} mx postfix/smtp[{number}]: {id}: to=<{address}>, status=deferred (421 busy)",
    "Date: {rfc_date}; 550 5.7.1 message refused by {host} at {iso_date}",
    "<{address}>: host {host}[{ip}] said: 550 5.1.1 user unknown (queue {id})",
    "452 4.2.2 mailbox full, {number} bytes over quota, msg {id} at {host}",
    "你发送到{address}的邮件被退回，原因：收件人不存在 {id} 服务器 {ip}",
]


@settings(max_examples=200, deadline=None)
@given(
    template=st.sampled_from(TEMPLATES),
    first=st.fixed_dictionaries(_VOLATILE),
    second=st.fixed_dictionaries(_VOLATILE),
)
def test_volatile_parts_never_change_the_normalised_text(
    template: str, first: dict[str, str], second: dict[str, str]
) -> None:
    assert normalize_text(template.format(**first)) == normalize_text(template.format(**second))


def test_try_again_later_keeps_its_label_for_every_id() -> None:
    texts = [f"421 4.7.0 try again later id{n}" for n in range(5000)]
    assert {p.label for p in classify(texts)} == {"rate_limited"}


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("see http://service.mail.qq.com/cgi-bin/help?subtype=1&&no=1000722 now", "1000722"),
        ("421 4.7.0 [TSS04] Messages from 192.0.2.77 temporarily deferred", "[tss04]"),
        ("550 5.7.708 Service unavailable. Access denied", "5.7.708"),
        ("550 MI:NHD HELO命令不允许为空", "mi:nhd"),
        ("our block list (S3150). You can", "(s3150)."),
        ("message size 10MB exceeds", "mb"),
        ("Final-Recipient: rfc822; bob@example.com", "rfc822;"),
    ],
)
def test_provider_codes_and_units_are_kept(raw: str, kept: str) -> None:
    assert kept in normalize_text(raw).split()


def test_other_scripts_are_words_not_ids() -> None:
    assert normalize_text("Ошибка123 пользователь") == "ошибка <num> пользователь"
    assert normalize_text("ユーザーが見つかりません") == "ユーザーが见つかりません"


def test_texts_are_cut_before_normalising() -> None:
    assert len(normalize_text("user unknown " * 10_000)) <= MAX_TEXT_CHARS


# ---------------------------------------------------------------- linear time (issue 16, point 6)


def _adversarial_shapes() -> list[str]:
    spec = read_toml(Path(__file__).parent / "fixtures" / "adversarial.toml")
    return [
        (shape["unit"] * (spec["size"] // len(shape["unit"]) + 1))[: spec["size"]]
        + shape.get("tail", "")
        for shape in spec["shapes"]
    ]


@pytest.mark.slow
@pytest.mark.parametrize("text", _adversarial_shapes(), ids=lambda t: repr(t[:8]))
def test_adversarial_shapes_normalise_and_tokenise_in_linear_time(text: str) -> None:
    tokenize = Tokenizer(Segmenter({"用户": 9000}, 60_000_000))
    started = time.perf_counter()
    normalized = normalize_text(text)
    tokenize(normalized)
    # Full, unclipped strings through every pattern too: linear time, not only the cut.
    masked = mask_volatile(text.lower())
    tokenize(masked)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"{elapsed:.2f} s"
