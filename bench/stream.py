"""Benchmark inputs: a realistic stream of bounces, and every distinct wording of the corpus.

A real mail log repeats a few hundred wordings, but hardly ever the same line:
every line carries its own date, queue id, process id, address, relay host, IP
and delay, and the wordings themselves name fresh addresses, hosts and numbers.
:func:`realistic_stream` builds such lines from the corpus's wordings of one
language, so a benchmark cannot profit from identical lines.
"""

from __future__ import annotations

import random
import re
from functools import cache

from bounce_ml.corpus.files import CHINESE_LANGS, load_corpus
from bounce_ml.text.normalize import normalize_text

LANGUAGES = ("en", "zh")
WORDINGS = 600  # distinct wordings drawn for one stream

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_HOST = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:com|net|org|cn|example|test)\b", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"\b\d{4,}\b")
_HEX_ID = re.compile(r"\b[0-9A-F]{8,}\b")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@cache
def _wordings(lang: str) -> tuple[str, ...]:
    """Corpus texts of one language (``en`` or ``zh``) with distinct normalised forms."""
    chosen: dict[str, str] = {}
    for row in load_corpus().rows:
        is_chinese = row.lang in CHINESE_LANGS
        if (lang == "zh") == is_chinese and (lang == "zh" or row.lang == "en"):
            chosen.setdefault(normalize_text(row.text), row.text)
    return tuple(chosen.values())


def distinct_wordings(lang: str) -> list[str]:
    """Every distinct wording of one language, each once."""
    return list(_wordings(lang))


def _address(rng: random.Random) -> str:
    return f"{rng.choice(['li.na', 'bob', 'sales', 'user'])}{rng.randint(1, 99999)}@{_host(rng)}"


def _host(rng: random.Random) -> str:
    tld = rng.choice(["com", "net", "cn"])
    return f"mx{rng.randint(1, 99)}.d{rng.randint(1, 9999)}.example.{tld}"


def _ip(rng: random.Random) -> str:
    first = rng.choice([198, 203, 192])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _queue_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(44):011X}"


def _date(rng: random.Random) -> str:
    return (
        f"{rng.choice(_MONTHS)} {rng.randint(1, 28):2d} "
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    )


def _refresh(wording: str, rng: random.Random) -> str:
    """The same wording with other addresses, IPs, hosts, numbers and ids."""
    wording = _EMAIL.sub(lambda _: _address(rng), wording)
    wording = _IPV4.sub(lambda _: _ip(rng), wording)
    wording = _HOST.sub(lambda _: _host(rng), wording)
    wording = _HEX_ID.sub(lambda _: _queue_id(rng), wording)
    return _LONG_NUMBER.sub(lambda _: str(rng.randint(1000, 99_999_999)), wording)


def _line(wording: str, rng: random.Random, lang: str) -> str:
    """One log line or diagnostic around a refreshed wording, in one of three shapes.

    On one line, as a log writes it: a quarter of the corpus's wordings span lines (a DSN's
    folded Diagnostic-Code, a provider's notice), and a file of such texts would hold more
    lines than texts.
    """
    wording = " ".join(_refresh(wording, rng).split())
    shape = rng.randrange(3)
    if shape == 0:  # a Postfix log line
        return (
            f"{_date(rng)} mail{rng.randint(1, 9)} postfix/smtp[{rng.randint(1000, 65535)}]: "
            f"{_queue_id(rng)}: to=<{_address(rng)}>, relay={_host(rng)}[{_ip(rng)}]:25, "
            f"delay={rng.randint(0, 300)}.{rng.randint(0, 9)}, status=bounced ({wording})"
        )
    if shape == 1 and lang == "zh":  # a Chinese provider's notice
        return f"{_date(rng)} 你发送到 {_address(rng)} 的邮件被退回：{wording}（{_queue_id(rng)}）"
    if shape == 1:  # a DSN diagnostic with the reporting host
        return f"Diagnostic-Code: smtp; {wording} [{_host(rng)}] id={_queue_id(rng)}"
    return f"{wording} ({_date(rng)}, {_ip(rng)})"


def realistic_stream(lang: str, size: int, seed: int) -> tuple[list[str], int]:
    """``size`` lines drawn from :data:`WORDINGS` wordings of ``lang``; and the wording count."""
    rng = random.Random(seed)
    pool = _wordings(lang)
    wordings = rng.sample(pool, min(WORDINGS, len(pool)))
    return [_line(rng.choice(wordings), rng, lang) for _ in range(size)], len(wordings)
