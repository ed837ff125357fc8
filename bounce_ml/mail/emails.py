"""Parse one bounce message into its failed recipients and their error text.

A bounce comes in one of two shapes. A delivery status notification (RFC 3464) has a
``message/delivery-status`` part with one block of fields per recipient, and those fields
are read as they are. Every other bounce (qmail, old Exim and Sendmail, Chinese webmail
providers) is prose: the recipients and the error sentences are found in the body text.

In both shapes the returned copy of the original message is ignored: its headers and body
may say anything, including words that look like errors. Recipients whose DSN ``Action``
is ``delivered``, ``relayed`` or ``expanded`` did not fail and give no record; ``delayed``
recipients do, since a delay is a (soft) bounce worth classifying.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import replace
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from html.parser import HTMLParser

from charset_normalizer import from_bytes

from bounce_ml.mail.records import BounceRecord, Kind
from bounce_ml.mail.smtp import find_command, find_reply_code, find_status, first_rejection

__all__ = ["BrokenMessageError", "decode_text", "find_status", "parse_bounce"]

# Long enough for any real error sentence; stops a report without structure from turning
# its whole body into one diagnostic.
MAX_DIAGNOSTIC_CHARS = 2000

_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
# The record kind of each DSN Action; an unknown action is read as a failure.
_KIND_OF_ACTION: dict[str, Kind] = {
    "failed": "failed",
    "delayed": "delayed",
    "delivered": "delivered",
    "relayed": "delivered",
    "expanded": "delivered",
}

# Codecs a detected or declared label is read with: GB18030 is a superset of GB2312 and
# GBK, and Big5-HKSCS of Big5, so text with a character outside the named set still decodes.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}
# What an unlabelled or mislabelled part is tried as; charset_normalizer left free to pick
# any codec reads short Chinese text as Korean, so the choice is narrowed to these.
_GUESSES = ("utf_8", "gb18030", "big5", "cp1252")
# Single-byte codecs decode any bytes, so a failed decode cannot show that such a label is
# wrong (GBK text labelled iso-8859-1): their text is weighed against the guesses instead.
_PERMISSIVE_CODEC_PREFIXES = ("iso8859", "latin", "cp125")

_ADDRESS = (
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
# Where prose reports name a failed recipient; each pattern captures it as "address".
_RECIPIENT_PATTERNS = (
    # An address opening a line: qmail "<x@y>:", Postfix "<x@y>: host ... said",
    # Exim's indented "  x@y", Sendmail's "<x@y>" and "x@y... User unknown".
    re.compile(rf"^[ \t]*<?(?P<address>{_ADDRESS})>?[ \t]*(?::|\.\.\.|$)", re.MULTILINE),
    # Field-like lines: "Original-Recipient: rfc822; x@y", "收件人：张三 <x@y>".
    re.compile(
        r"(?:recipient(?: address)?|收件人|收件者|收信人)(?:地址|邮箱|郵箱|信箱){0,2}[ \t]*[:：]"
        rf"[ \t]*(?:rfc822;[ \t]*)?(?:[^\n<@]*<)?(?P<address>{_ADDRESS})>?",
        re.IGNORECASE,
    ),
    # Sentences: "Your message to x@y couldn't be delivered", "你发送到 x@y 的邮件".
    re.compile(
        r"(?:message[ \t]+to|delivered[ \t]+to|发送到|發送到|发送给|發送給|寄送到|寄送至|发往|發往"
        rf"|投递到|投遞到)[ \t]*[:：]?[ \t]*<?(?P<address>{_ADDRESS})>?",
        re.IGNORECASE,
    ),
)
# Where the returned original message starts in a prose body.
_ORIGINAL_MESSAGE_MARKER = re.compile(
    r"^[ \t>]*(?:-+[ \t]*below this line is a copy of the message"
    r"|-+[ \t]*this is a copy of the message"
    r"|-+[ \t]*(?:original|unsent|returned)[ \t]+(?:message|mail)"
    r"|original message headers:"
    r"|[-=_* \t]*(?:以下(?:是|为|為))?(?:原始|原)[邮郵]件"
    r"(?:信息|内容|內容|如下)?[ \t]*[:：]?[-=_* \t]*$)",
    re.IGNORECASE | re.MULTILINE,
)
# A titled separator such as Sendmail's "----- Transcript of session follows -----" ends
# the text that belongs to the recipient above it.
_SECTION_LINE = re.compile(r"^[ \t]*-{3,}[ \t]*\S[^\n]*?-{3,}[ \t]*$", re.MULTILINE)
# Lines that restate the bounced message (its subject may contain anything), not the error.
_METADATA_LINE = re.compile(
    r"^[ \t]*(?:subject|date|from|sent|主[ \t]*[题題旨]|[时時][ \t]*[间間]|寄件者"
    r"|[发發](?:件人|信人|送[时時][间間]))[ \t]*[:：][^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_HOST_IN_PROSE = re.compile(
    r"\b(?:host|talking to)[ \t]+(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\.?[ \t]*[\[:]",
    re.IGNORECASE,
)
_SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")
_TYPE_PREFIX = re.compile(r"^[A-Za-z][\w-]*[ \t]*;[ \t]*")
_BOUNCE_SIGNS = re.compile(
    r"mailer[-_ ]?daemon|postmaster|mail delivery (?:subsystem|system|failed)|undeliver"
    r"|delivery (?:status|fail|has failed|notification)|returned mail|failure notice"
    r"|non-?delivery|could not be delivered|退信|退回|投[递遞]失[败敗]|[发發]送失[败敗]"
    r"|无法(?:投递|送达|发送)|無法(?:投遞|送達|傳遞|發送)|未能(?:送达|投递)",
    re.IGNORECASE,
)


class BrokenMessageError(ValueError):
    """The input cannot be read as an email message at all."""


def parse_bounce(
    message: bytes | Message, *, source: str = "-", index: int | None = None
) -> list[BounceRecord]:
    """Read the failed recipients of one bounce message.

    Parameters
    ----------
    message : bytes or email.message.Message
        The raw message, or one already parsed.
    source, index : str, int or None
        Copied into every record (see `BounceRecord`).

    Returns
    -------
    list of BounceRecord
        One record per failed or delayed recipient, in the order the message gives them.
        A message that is not a bounce, or a DSN without a failed recipient, gives one
        record with an empty diagnostic and a ``note`` saying why.

    Raises
    ------
    BrokenMessageError
        When ``message`` is empty or has no header fields.
    """
    if not isinstance(message, Message):
        message = _parse_bytes(message)
    leaves = [(part.get_content_type(), part) for part in _leaf_parts(message)]
    prose = _prose_text(leaves)
    prose_records = _prose_records(prose, source, index)
    status_part = next((part for kind, part in leaves if kind in _STATUS_TYPES), None)
    recipient_blocks = _recipient_blocks(status_part) if status_part is not None else []

    if recipient_blocks:
        every = [_dsn_record(block, prose_records, source, index) for block in recipient_blocks]
        # Delivered recipients of a report that also has failures are not worth a row.
        failures = [record for record in every if record.is_failure]
        records = failures or every
    elif not _looks_like_bounce(message, prose_records):
        records = [_empty_record(source, index, "not a bounce: no delivery report or error")]
    elif prose_records:
        records = prose_records
    else:
        records = [
            _with_codes(
                BounceRecord(
                    text=_clean(prose),
                    source=source,
                    index=index,
                    note="no recipient named in the report",
                )
            )
        ]
    damage = _damage_note(message)
    return [record.with_note(damage) for record in records] if damage else records


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Decode ``data`` with its declared charset, or by detection when the label is missing
    or wrong; never raises.

    Parameters
    ----------
    data : bytes
        The decoded transfer encoding (no base64 left), in some text charset.
    charset : str or None
        The declared label, if any.
    """
    if data.isascii():
        return data.decode("ascii")
    codec = _codec_name(charset)
    permissive = codec is not None and codec.startswith(_PERMISSIVE_CODEC_PREFIXES)
    # UTF-8 is tried second because it is the most common wrong label's true charset, and
    # text that happens to be valid UTF-8 without being UTF-8 is rare.
    for trial in ["utf_8"] if codec is None or permissive else [codec, "utf_8"]:
        try:
            return data.decode(trial)
        except UnicodeError:
            continue
    fallback = codec if permissive and codec is not None else "utf_8"
    candidates = list(dict.fromkeys([*_GUESSES, fallback]))
    guess = from_bytes(data, cp_isolation=candidates).best()
    if guess is not None:
        return data.decode(_SUPERSETS.get(guess.encoding, guess.encoding), errors="replace")
    return data.decode(fallback, errors="replace")


def _parse_bytes(data: bytes) -> Message:
    if not data.strip():
        raise BrokenMessageError("empty message")
    # compat32 never raises on malformed headers; the defects it records are reported.
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    if not message.keys():
        raise BrokenMessageError("no header fields: not an email message")
    return message


def _codec_name(charset: str | None) -> str | None:
    """The Python codec for a charset label, widened to its superset; None if unknown."""
    if not charset:
        return None
    try:
        name = codecs.lookup(charset).name
        "".encode(name)  # refuses codecs that are not text encodings, such as base64
    except (LookupError, ValueError):  # ValueError: a NUL byte in the label
        return None
    return _SUPERSETS.get(name, name)


def _leaf_parts(message: Message) -> Iterator[Message]:
    """Yield the leaf parts of ``message``; a returned original (``message/rfc822``) is a
    leaf, so its own parts are never reached."""
    # A multipart whose boundary is missing has no parts (is_multipart() is False).
    if message.get_content_maintype() == "multipart" and message.is_multipart():
        for part in message.get_payload():
            if isinstance(part, Message):
                yield from _leaf_parts(part)
    else:
        yield message


def _prose_text(leaves: list[tuple[str, Message]]) -> str:
    """The human-readable text of the report, up to where the original message starts.

    ``leaves`` are the message's leaf parts with their content types."""
    readable = [
        (kind, part)
        for kind, part in leaves
        if kind in ("text/plain", "text/html") and part.get_content_disposition() != "attachment"
    ]
    # HTML is read only when there is no plain text: most reports with both say the same.
    chosen = [(kind, part) for kind, part in readable if kind == "text/plain"] or readable
    text = "\n\n".join(_part_text(part, html=kind == "text/html") for kind, part in chosen)
    marker = _ORIGINAL_MESSAGE_MARKER.search(text)
    return text[: marker.start()] if marker else text


def _part_text(part: Message, *, html: bool) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = decode_text(payload, part.get_content_charset())
    if html:
        text = _html_to_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML part, one line per block element."""

    _BLOCKS = frozenset({"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "hr"})
    _HIDDEN = frozenset({"head", "script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            # Line breaks in HTML source are not line breaks on screen; lines matter to the
            # recipient patterns, so only block elements make them.
            self.chunks.append(re.sub(r"\s+", " ", data))


def _html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return "".join(parser.chunks)


def _prose_records(text: str, source: str, index: int | None) -> list[BounceRecord]:
    """One record per recipient named in prose, with the text that follows its mention."""
    anchors = sorted(
        (match.start("address"), match.start(), match.end(), match.group("address"))
        for pattern in _RECIPIENT_PATTERNS
        for match in pattern.finditer(text)
    )
    # Two patterns can match the same mention; keep the widest match for each.
    mentions = [a for i, a in enumerate(anchors) if i == 0 or a[0] != anchors[i - 1][0]]
    regions: dict[str, list[str]] = {}
    recipients: dict[str, str] = {}
    for i, (_, _, end, address) in enumerate(mentions):
        stop = mentions[i + 1][1] if i + 1 < len(mentions) else len(text)
        section = _SECTION_LINE.search(text, end, stop)
        key = address.lower()
        recipients.setdefault(key, address)
        regions.setdefault(key, []).append(text[end : section.start() if section else stop])
    preamble = text[: mentions[0][1]] if mentions else ""
    records = []
    for key, address in recipients.items():
        # Some reports give the reason before the recipient list.
        diagnostic = _clean("\n".join(regions[key])) or _clean(preamble)
        host = _HOST_IN_PROSE.search(diagnostic)
        records.append(
            _with_codes(
                BounceRecord(
                    text=diagnostic,
                    recipient=address,
                    remote_mta=host.group("host") if host else None,
                    source=source,
                    index=index,
                )
            )
        )
    return records


def _clean(text: str) -> str:
    """Drop restated metadata lines and fold whitespace into single spaces."""
    return " ".join(_METADATA_LINE.sub("", text).split())[:MAX_DIAGNOSTIC_CHARS]


def _recipient_blocks(status_part: Message) -> list[Message]:
    """The per-recipient field blocks of a delivery-status part."""
    payload = status_part.get_payload()
    if isinstance(payload, list):
        blocks = payload  # email parses message/delivery-status into one Message per block
    else:  # message/global-delivery-status is left as (possibly encoded) text
        raw = status_part.get_payload(decode=True)
        text = decode_text(raw if isinstance(raw, bytes) else b"", "utf-8")
        blocks = [
            email.message_from_string(block, policy=email.policy.compat32)
            for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))
        ]
    return [
        b
        for b in blocks
        if isinstance(b, Message) and (b.get("Final-Recipient") or b.get("Original-Recipient"))
    ]


def _dsn_record(
    block: Message, prose_records: list[BounceRecord], source: str, index: int | None
) -> BounceRecord:
    recipient = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
    recipient = recipient.strip("<>")
    diagnostic = _field(block, "Diagnostic-Code")
    note = None
    if not diagnostic:
        wanted = recipient.lower()
        same_recipient = [r for r in prose_records if (r.recipient or "").lower() == wanted]
        fallback = same_recipient or (prose_records if len(prose_records) == 1 else [])
        if fallback:
            diagnostic = fallback[0].text
            note = "no Diagnostic-Code: text taken from the report's prose"
    status_field = _field(block, "Status")
    action = _field(block, "Action").lower()
    record = BounceRecord(
        text=diagnostic,
        status=status_field.split()[0] if status_field else None,
        kind=_KIND_OF_ACTION.get(action, "failed"),
        recipient=recipient or None,
        dsn_action=action or None,
        remote_mta=_host_name(_field(block, "Remote-MTA")),
        source=source,
        index=index,
        note=note,
    )
    return _with_codes(record)


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
    text = str(value)
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


def _looks_like_bounce(message: Message, prose_records: list[BounceRecord]) -> bool:
    sender_and_subject = f"{_header_text(message['From'])} {_header_text(message['Subject'])}"
    return (
        message.get_content_type() == "multipart/report"
        or "X-Failed-Recipients" in message
        or _BOUNCE_SIGNS.search(sender_and_subject) is not None
        or any(record.status for record in prose_records)
    )


def _damage_note(message: Message) -> str | None:
    defects = sorted({type(d).__name__ for part in message.walk() for d in part.defects})
    return f"damaged message: {', '.join(defects)}" if defects else None


def _empty_record(source: str, index: int | None, note: str) -> BounceRecord:
    return BounceRecord(kind="not_bounce", source=source, index=index, note=note)
