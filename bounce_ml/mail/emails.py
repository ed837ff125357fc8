"""Parse one bounce message into records: who failed, why, and what kind of message it is.

Which part wins:

1. A feedback report (RFC 5965, ``message/feedback-report``) gives one ``feedback_report``
   record with its ``Feedback-Type``; it is never a failure.
2. A delivery status notification (RFC 3464, ``message/delivery-status``) gives one record
   per recipient block: its ``Action`` makes the kind (``failed``, ``delayed``, or
   ``delivered`` for delivered, relayed and expanded), ``Status`` the status. The text is
   the ``Diagnostic-Code``; when that is missing or says nothing (``smtp; 550``), the
   report's prose about that recipient is read instead, and when the prose explains the
   failure in other words for that recipient, both are kept. Delivered recipients of a
   report that also has failures give no record.
3. An automatic reply (vacation, out of office) gives one ``auto_reply`` record.
4. A message with no sign of a bounce gives one ``not_bounce`` record.
5. Every other bounce is prose (qmail, Exim, Sendmail, Exchange, gateways, webmail
   providers in many languages): recipients are found where the prose names them (or in
   ``X-Failed-Recipients``), and each gets the error sentence that follows its mention,
   without boilerplate lines; in an SMTP transcript, the first rejected reply.

The returned copy of the original message is never read: its headers and body may say
anything, including words that look like errors. Every stage is bounded in size and every
pattern runs in linear time, so a hostile message cannot stall a batch.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses
from functools import cache

from bounce_ml.mail.charsets import decode_text
from bounce_ml.mail.html import html_to_text
from bounce_ml.mail.records import BounceRecord, Kind
from bounce_ml.mail.smtp import find_command, find_reply_code, find_status, first_rejection
from bounce_ml.mail.wording import default_wording

__all__ = ["BrokenMessageError", "decode_text", "find_status", "parse_bounce"]

# Size bounds, applied before each stage runs. The report comes first in a bounce and is
# short; what gets cut is the tail of a huge body, or of a hostile header.
MAX_DIAGNOSTIC_CHARS = 2000  # one record's error text
MAX_PROSE_CHARS = 100_000  # the readable text of a report, before the original
MAX_HTML_CHARS = 500_000  # an HTML part, before its tags are removed
MAX_HEADER_CHARS = 2000  # a header value, before RFC 2047 words are decoded
MAX_MARKER_LINE = 200  # a line longer than this is never a separator or a marker

_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_FEEDBACK_TYPE = "message/feedback-report"
# The record kind of each DSN Action; an unknown action is read as a failure.
_KIND_OF_ACTION: dict[str, Kind] = {
    "failed": "failed",
    "delayed": "delayed",
    "delivered": "delivered",
    "relayed": "delivered",
    "expanded": "delivered",
}
# A local part (plain, or quoted as Exchange writes 'erik nilsson'@x), "@", and
# dot-separated labels: no nested repetition, linear to match.
_ADDRESS = (
    r"(?:'[^'\n@]{1,64}'|\"[^\"\n@]{1,64}\"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+)"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)
_ADDRESS_ONLY = re.compile(_ADDRESS)
_METADATA_LINE = re.compile(
    r"(?:subject|date|from|sent|to|cc|主[ \t]*[题題旨]|[时時][ \t]*[间間]|寄件者|件名|제목"
    r"|[发發](?:件人|信人|送[时時][间間]))[ \t]*[:：].*",
    re.IGNORECASE,
)
# An SMTP transcript: ">>> RCPT To:<x>" sent, "<<< 550 ..." received (Sendmail), or
# "--> RCPT To:<x>" and "<-- 550 ..." after a time stamp (MDaemon).
_TRANSCRIPT_SENT = re.compile(
    r"(?:>>>|-->)[ \t]*(?P<command>[A-Za-z]+(?:[ \t]+(?:to|from))?)", re.IGNORECASE
)
_TRANSCRIPT_REJECTION = re.compile(r"(?:<<<|<--)[ \t]*(?P<reply>[45]\d\d[ -].*)")
_TRANSCRIPT_COMMANDS = {
    "rcpt to": "RCPT TO",
    "mail from": "MAIL FROM",
    "data": "DATA",
    "ehlo": "EHLO",
    "helo": "HELO",
}
_REPLY_ADDRESS = re.compile(
    rf"(?<!\d)[45]\d\d[ -](?:[45]\.\d{{1,3}}\.\d{{1,3}}[ \t]+)?<(?P<address>{_ADDRESS})>"
)
# What a relay adds around a diagnostic it quotes: "host mx[ip] said:", "(in reply to ...)".
_RELAY_WORDS = re.compile(
    r"\bhost[ \t]+\S{1,255}[ \t]+said:|\(in reply to [^()\n]{0,60}\)|[#<>]", re.IGNORECASE
)
_HOST_IN_PROSE = re.compile(
    r"\b(?:host|talking to)[ \t]+(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\.?[ \t]*[\[:]",
    re.IGNORECASE,
)
_CODES = re.compile(r"(?<![\w.])(?:[245]\.\d{1,3}\.\d{1,3}|[245]\d\d)(?![\w.])|[#();,.:<>\[\]'\"-]")
_SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")
_TYPE_PREFIX = re.compile(r"^[A-Za-z][\w-]{0,40}[ \t]*;[ \t]*")
_AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Vacation")


class BrokenMessageError(ValueError):
    """The input cannot be read as an email message at all."""


@dataclass(frozen=True, slots=True)
class _Mention:
    """A recipient named in prose: the address and the text about it."""

    address: str
    text: str  # the error sentence found for it ("" when the prose says nothing more)


def parse_bounce(
    message: bytes | Message, *, source: str = "-", index: int | None = None
) -> list[BounceRecord]:
    """Read the records of one bounce message (see the module's docstring for the rules).

    Parameters
    ----------
    message : bytes or email.message.Message
        The raw message, or one already parsed.
    source, index : str, int or None
        Copied into every record (see `BounceRecord`).

    Returns
    -------
    list of BounceRecord
        At least one record: one per recipient of a bounce, in the order the message gives
        them, or one record saying what else the message is.

    Raises
    ------
    BrokenMessageError
        When ``message`` is empty or has no header fields.
    """
    if not isinstance(message, Message):
        message = _parse_bytes(message)
    leaves = [(part.get_content_type(), part) for part in _leaf_parts(message)]
    prose = _prose_text(leaves)
    subject = f"{_header_text(message['Subject'])} {_header_text(message['From'])}"
    feedback = next((part for kind, part in leaves if kind == _FEEDBACK_TYPE), None)
    status_part = next((part for kind, part in leaves if kind in _STATUS_TYPES), None)
    blocks = _recipient_blocks(status_part) if status_part is not None else []

    senders = frozenset(address.lower() for address in _addresses(message.get_all("To") or []))
    if feedback is not None:
        records = [_feedback_record(feedback, leaves, prose)]
    elif blocks:
        mentions = _mentions(prose, senders)
        every = [_dsn_record(block, mentions, prose) for block in blocks]
        records = [record for record in every if record.is_failure] or every
    elif _is_auto_reply(message, subject):
        records = [_auto_reply_record(message, prose)]
    else:
        mentions = _mentions(prose, senders)
        if _looks_like_bounce(message, subject, mentions):
            records = _prose_records(message, subject, prose, mentions)
        else:
            note = "not a bounce: no delivery report or error"
            records = [BounceRecord(kind="not_bounce", note=note)]
    damage = _damage_note(message)
    return [
        replace(record.with_note(damage) if damage else record, source=source, index=index)
        for record in records
    ]


def _parse_bytes(data: bytes) -> Message:
    if not data.strip():
        raise BrokenMessageError("empty message")
    # compat32 never raises on malformed headers; the defects it records are reported.
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    if not message.keys():
        raise BrokenMessageError("no header fields: not an email message")
    return message


def _leaf_parts(message: Message) -> Iterator[Message]:
    """Yield the leaf parts of ``message``; a returned original (``message/rfc822``) and a
    feedback report are leaves, so their own parts are never reached."""
    # A multipart whose boundary is missing has no parts (is_multipart() is False).
    if message.get_content_maintype() == "multipart" and message.is_multipart():
        for part in message.get_payload():
            if isinstance(part, Message):
                yield from _leaf_parts(part)
    else:
        yield message


def _prose_text(leaves: list[tuple[str, Message]]) -> str:
    """The human-readable text of the report, up to where the original message starts."""
    readable = [
        (kind, part)
        for kind, part in leaves
        if kind in ("text/plain", "text/html") and part.get_content_disposition() != "attachment"
    ]
    # HTML is read only when there is no plain text: most reports with both say the same.
    chosen = [(kind, part) for kind, part in readable if kind == "text/plain"] or readable
    text = "\n\n".join(_part_text(part, html=kind == "text/html") for kind, part in chosen)
    return _before_original(text[:MAX_PROSE_CHARS])


def _part_text(part: Message, *, html: bool) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = decode_text(payload[: MAX_HTML_CHARS if html else MAX_PROSE_CHARS * 4],
                       part.get_content_charset())  # fmt: skip
    if html:
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _before_original(text: str) -> str:
    """``text`` up to the line where a returned original message starts."""
    marker = default_wording().original_marker
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip().lstrip(">").strip()
        if stripped and len(stripped) <= MAX_MARKER_LINE and marker.fullmatch(stripped):
            return text[:offset]
        offset += len(line)
    return text


def _is_section_line(line: str) -> bool:
    """A titled separator such as Sendmail's ``----- Transcript of session follows -----``."""
    stripped = line.strip()
    return (
        len(stripped) <= MAX_MARKER_LINE
        and stripped.startswith("---")
        and stripped.endswith("---")
        and bool(stripped.strip("-").strip())
    )


# ---------------------------------------------------------------- recipients in prose


@dataclass(frozen=True)
class _RecipientPatterns:
    """Where prose reports name a failed recipient; each pattern captures ``address``."""

    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def build(cls) -> _RecipientPatterns:
        labels = default_wording().recipient_label
        sentences = default_wording().recipient_sentence
        return cls(
            (
                # An address opening a line: qmail "<x@y>:", Postfix "<x@y>: host ... said",
                # Exim's indented "  x@y", Sendmail "x@y... User unknown", Exchange
                # "x@y on 3/12/2025", Zoho "x@y, ERROR CODE".
                re.compile(
                    rf"^[ \t]*<?(?P<address>{_ADDRESS})>?(?=[ \t]*(?:[:,;(]|\.\.\.|on[ \t]|$))",
                    re.MULTILINE,
                ),
                # Field-like lines: "Original-Recipient: rfc822; x@y", "收件人：张三 <x@y>".
                re.compile(
                    rf"(?:{labels})[ \t]*[:：][ \t]*(?:rfc822;[ \t]*)?(?:[^\n<@]{{0,80}}<)?"
                    rf"(?P<address>{_ADDRESS})",
                    re.IGNORECASE,
                ),
                # Sentences: "Your message to x@y couldn't be delivered", "你发送到 x@y 的邮件".
                re.compile(
                    rf"(?:{sentences})[ \t]*[:：]?[ \t]*<?(?P<address>{_ADDRESS})", re.IGNORECASE
                ),
            )
        )

    def mentions(self, text: str, senders: frozenset[str]) -> list[tuple[int, int, str]]:
        """(start, end, address) of each mention, in order; overlapping matches of the
        same place are kept once, the widest. The ``senders`` (lower case) are never
        recipients: a report quotes the sender's address in refusals of it."""
        found = sorted(
            (match.start("address"), -match.end(), match.start(), match.group("address"))
            for pattern in self.patterns
            for match in pattern.finditer(text)
            if match.group("address").lower() not in senders
        )
        mentions: list[tuple[int, int, str]] = []
        for address_start, negative_end, start, address in found:
            if mentions and address_start < mentions[-1][1]:
                continue
            mentions.append((start, -negative_end, address))
        return mentions


@cache
def _recipient_patterns() -> _RecipientPatterns:
    return _RecipientPatterns.build()


def _mentions(prose: str, senders: frozenset[str]) -> list[_Mention]:
    """The recipients the prose names, each with the error sentence about it."""
    places = _recipient_patterns().mentions(prose, senders)
    if not places:
        # A last resort: the address a refusal names ("550 5.1.1 <x@y>: User unknown").
        places = [
            (match.start(), match.start(), match.group("address"))
            for match in _REPLY_ADDRESS.finditer(prose)
            if match.group("address").lower() not in senders
        ][:1]
    regions: dict[str, list[str]] = {}
    addresses: dict[str, str] = {}
    for i, (_, end, address) in enumerate(places):
        stop = places[i + 1][0] if i + 1 < len(places) else len(prose)
        key = address.lower()
        addresses.setdefault(key, address)
        regions.setdefault(key, []).append(_until_section(prose[end:stop]))
    # Some reports give the reason before the recipient list, or in a transcript below.
    preamble = _error_sentence(prose[: places[0][0]]) if places else ""
    mentions = []
    for key, address in addresses.items():
        text = _error_sentence("\n".join(regions[key]))
        if not text:
            text = preamble or _error_sentence(prose, recipient=address)
        elif len(addresses) == 1 and preamble and preamble not in text:
            text = f"{preamble} {text}"[:MAX_DIAGNOSTIC_CHARS]
        mentions.append(_Mention(address, text))
    return mentions


def _until_section(text: str) -> str:
    offset = 0
    for line in text.splitlines(keepends=True):
        if _is_section_line(line):
            return text[:offset]
        offset += len(line)
    return text


def _error_sentence(text: str, *, recipient: str | None = None) -> str:
    """The error in ``text``: its lines without boilerplate, restated metadata and
    separators, folded to one line; in an SMTP transcript, the first rejected reply (after
    ``recipient``'s RCPT command when given)."""
    wording = default_wording()
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if (
            stripped
            and not _is_section_line(stripped)
            and not wording.boilerplate.fullmatch(stripped)
            and not _METADATA_LINE.fullmatch(stripped)
        ):
            lines.append(stripped)
    rejection = _transcript_rejection(lines, recipient)
    sentence = rejection if rejection is not None else " ".join(" ".join(lines).split())
    # What is left of "<x@y>:" once the recipient is taken out.
    return sentence.lstrip(" :;,.")[:MAX_DIAGNOSTIC_CHARS]


def _transcript_rejection(lines: list[str], recipient: str | None) -> str | None:
    """The first ``<<< 4xx/5xx`` reply of a transcript with its continuation lines, and the
    command it answered; None when ``lines`` hold no transcript rejection."""
    start = 0
    if recipient is not None:
        wanted = recipient.lower()
        start = next(
            (
                i
                for i, line in enumerate(lines)
                if _TRANSCRIPT_SENT.search(line) and wanted in line.lower()
            ),
            0,
        )
    command = None
    for i in range(start, len(lines)):
        sent = _TRANSCRIPT_SENT.search(lines[i])
        if sent:
            command = " ".join(sent.group("command").split()).lower()
            continue
        rejection = _TRANSCRIPT_REJECTION.search(lines[i])
        if rejection:
            reply = [rejection.group("reply")]
            code = reply[0][:3]
            for following in lines[i + 1 :]:
                more = _TRANSCRIPT_REJECTION.search(following)
                if not more or not more.group("reply").startswith(code):
                    break
                reply.append(more.group("reply"))
            text = " ".join(" ".join(reply).split())
            if command in _TRANSCRIPT_COMMANDS:
                text += f" (in reply to {_TRANSCRIPT_COMMANDS[command]} command)"
            return text
    return None


# ---------------------------------------------------------------- the kinds of message


def _prose_records(
    message: Message, subject: str, prose: str, mentions: list[_Mention]
) -> list[BounceRecord]:
    wording = default_wording()
    delayed = bool(wording.delay_subject.search(subject) or wording.delay_text.search(prose))
    kind: Kind = "delayed" if delayed else "failed"
    if not mentions:
        failed = _addresses(message.get_all("X-Failed-Recipients") or [])
        sentence = _error_sentence(prose)
        mentions = [_Mention(address, sentence) for address in failed]
    if not mentions:
        return [
            _with_codes(
                BounceRecord(
                    text=_error_sentence(prose), kind=kind, note="no recipient named in the report"
                )
            )
        ]
    records = []
    for mention in mentions:
        host = _HOST_IN_PROSE.search(mention.text)
        records.append(
            _with_codes(
                BounceRecord(
                    text=mention.text,
                    kind=kind,
                    recipient=mention.address,
                    remote_mta=host.group("host") if host else None,
                )
            )
        )
    return records


def _recipient_blocks(status_part: Message) -> list[Message]:
    """The per-recipient field blocks of a delivery-status part."""
    payload = status_part.get_payload()
    if isinstance(payload, list):
        blocks = payload  # email parses message/delivery-status into one Message per block
    else:  # message/global-delivery-status is left as (possibly encoded) text
        raw = status_part.get_payload(decode=True)
        text = decode_text(raw[:MAX_PROSE_CHARS] if isinstance(raw, bytes) else b"", "utf-8")
        blocks = [
            email.message_from_string(block, policy=email.policy.compat32)
            for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))
        ]
    return [
        b
        for b in blocks
        if isinstance(b, Message) and (b.get("Final-Recipient") or b.get("Original-Recipient"))
    ]


def _dsn_record(block: Message, mentions: list[_Mention], prose: str) -> BounceRecord:
    recipient = (_field(block, "Final-Recipient") or _field(block, "Original-Recipient")).strip(
        "<>"
    )
    diagnostic = _field(block, "Diagnostic-Code")[:MAX_DIAGNOSTIC_CHARS]
    wanted = recipient.lower()
    named = next((m.text for m in mentions if m.address.lower() == wanted and m.text), "")
    about = named or (mentions[0].text if len(mentions) == 1 else "") or _error_sentence(prose)
    note = None
    if not diagnostic and about:
        text, note = about, "no Diagnostic-Code: text taken from the report's prose"
    elif _says_nothing(diagnostic) and about:
        text = f"{diagnostic} {about}".strip()
    else:
        # Exchange explains the failure in the prose as well ("The format of the e-mail
        # address isn't correct"); Postfix only repeats the diagnostic there.
        quoted = re.compile(re.escape(_folded(diagnostic)), re.IGNORECASE)
        extra = quoted.sub(" ", _folded(_RELAY_WORDS.sub(" ", named))).strip()
        text = f"{diagnostic} {extra}" if len(extra.split()) >= 3 else diagnostic
    status_field = _field(block, "Status")
    action = _field(block, "Action").lower()
    record = _with_codes(
        BounceRecord(
            text=text[:MAX_DIAGNOSTIC_CHARS],
            status=status_field.split()[0] if status_field else None,
            kind=_KIND_OF_ACTION.get(action, "failed"),
            recipient=recipient or None,
            dsn_action=action or None,
            remote_mta=_host_name(_field(block, "Remote-MTA")),
            note=note,
        )
    )
    # Postfix says "(in reply to end of DATA command)" in its prose only.
    return record if record.smtp_command else replace(record, smtp_command=find_command(named))


def _says_nothing(diagnostic: str) -> bool:
    """Whether a Diagnostic-Code is only codes and words such as "delivery failed"."""
    words = " ".join(_CODES.sub(" ", diagnostic.lower()).split())
    return default_wording().uninformative_diagnostic.fullmatch(words) is not None


def _folded(text: str) -> str:
    return " ".join(text.split())


def _feedback_record(
    report: Message, leaves: list[tuple[str, Message]], prose: str
) -> BounceRecord:
    """The record of an abuse or authentication-failure report (RFC 5965)."""
    fields = _report_fields(report)
    original = next((part for kind, part in leaves if kind == "message/rfc822"), None)
    recipient = _field(fields, "Original-Rcpt-To") or _field(fields, "Removal-Recipient")
    if not recipient and original is not None:
        inner = original.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            recipient = " ".join(_addresses(inner[0].get_all("To") or []))
    return BounceRecord(
        text=_error_sentence(prose),
        kind="feedback_report",
        recipient=_first_address(recipient),
        feedback_type=_field(fields, "Feedback-Type").lower() or None,
    )


def _report_fields(report: Message) -> Message:
    """The fields of a ``message/feedback-report`` part as a Message."""
    payload = report.get_payload()
    if isinstance(payload, list) and payload:
        first = payload[0]
        if isinstance(first, Message):
            return first
    raw = report.get_payload(decode=True)
    text = decode_text(raw[:MAX_PROSE_CHARS] if isinstance(raw, bytes) else b"", "utf-8")
    return email.message_from_string(text, policy=email.policy.compat32)


def _is_auto_reply(message: Message, subject: str) -> bool:
    wording = default_wording()
    if wording.bounce_subject.search(subject):
        return False
    auto_submitted = _header_text(message["Auto-Submitted"]).lower()
    return (
        auto_submitted.startswith("auto-replied")
        or any(name in message for name in _AUTO_REPLY_HEADERS)
        or _header_text(message["Precedence"]).lower() == "auto_reply"
        or wording.auto_reply_subject.search(_header_text(message["Subject"])) is not None
    )


def _auto_reply_record(message: Message, prose: str) -> BounceRecord:
    """An automatic reply: who answered, and what they wrote."""
    return BounceRecord(
        text=" ".join(prose.split())[:MAX_DIAGNOSTIC_CHARS],
        kind="auto_reply",
        recipient=_first_address(_header_text(message["From"])),
    )


def _looks_like_bounce(message: Message, subject: str, mentions: list[_Mention]) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        or "X-Failed-Recipients" in message
        or default_wording().bounce_subject.search(subject) is not None
        or any(find_status(first_rejection(mention.text)) for mention in mentions)
    )


# ---------------------------------------------------------------- fields and headers


def _with_codes(record: BounceRecord) -> BounceRecord:
    """``record`` with the status, reply code and refused command its text gives filled in
    where the record has none."""
    cause = first_rejection(record.text)
    return replace(
        record,
        status=record.status or find_status(cause),
        reply_code=record.reply_code or find_reply_code(cause),
        smtp_command=record.smtp_command or find_command(cause),
    )


def _host_name(remote_mta: str) -> str | None:
    """The host name of a Remote-MTA value such as ``mx.example.org. (192.0.2.7)``."""
    return remote_mta.split()[0].rstrip(".") if remote_mta else None


def _field(block: Message, name: str) -> str:
    """A DSN field's value without its type prefix (``rfc822;``, ``smtp;``, ``dns;``)."""
    return _TYPE_PREFIX.sub("", _header_text(block.get(name)))


def _header_text(value: object) -> str:
    """Decode a header value (raw 8-bit bytes, RFC 2047 words) and unfold it."""
    if value is None:
        return ""
    text = str(value)[:MAX_HEADER_CHARS]
    if not text.isascii() and _SURROGATE_ESCAPE.search(text):
        # compat32 keeps raw 8-bit header bytes as surrogate escapes.
        text = decode_text(text.encode("ascii", "surrogateescape"))
    try:
        chunks = decode_header(text)
    except HeaderParseError:
        chunks = [(text, None)]
    decoded = "".join(
        chunk if isinstance(chunk, str) else decode_text(chunk, charset)
        for chunk, charset in chunks
    )
    return " ".join(decoded.split())


def _addresses(values: list[str]) -> list[str]:
    """The addresses in header values such as ``X-Failed-Recipients: a@x, b@y``."""
    pairs = getaddresses([_header_text(value) for value in values])
    return list(dict.fromkeys(address for _, address in pairs if "@" in address))


def _first_address(text: str) -> str | None:
    match = _ADDRESS_ONLY.search(text)
    return match.group() if match else None


def _damage_note(message: Message) -> str | None:
    defects = sorted({type(d).__name__ for part in message.walk() for d in part.defects})
    return f"damaged message: {', '.join(defects)}" if defects else None
