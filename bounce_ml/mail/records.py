"""The items that the input readers produce: a bounce record, or a problem report.

A `BounceRecord` is also what the Python API and the service classify: the error text plus
whatever the message said about it in fields (DSN ``Status``, SMTP reply code, the SMTP
command that was refused) and what kind of message it came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, get_args

from bounce_ml.errors import BounceMLError

Kind = Literal["failed", "delayed", "auto_reply", "feedback_report", "delivered", "not_bounce"]
KINDS: tuple[str, ...] = get_args(Kind)
# Bounce wording is short; anything longer is a whole message or junk. Texts are cut to this
# many characters before anything searches them, so a 50 MB line cannot stall a run.
MAX_TEXT_CHARS = 10_000
# Only these get a failure label; the other kinds are classified `unknown`.
FAILURE_KINDS = frozenset({"failed", "delayed"})


@dataclass(frozen=True, slots=True, kw_only=True)
class BounceRecord:
    """One recipient of a bounce message, one line of a batch file, or one API input.

    Every field has a default, so an API caller gives only what it knows:
    ``BounceRecord(text="550 mailbox unavailable", status="5.2.2", smtp_command="RCPT")``.

    Attributes
    ----------
    text : str
        The error text to classify; empty when the message gave none.
    status : str or None
        The DSN ``Status`` (``5.1.1``); else the first enhanced status code in the text; else
        the SMTP reply code (``550``).
    reply_code : str or None
        The SMTP reply code of the rejection (``550``), when known.
    smtp_command : str or None
        The SMTP command the server refused: ``CONNECT`` (the greeting), ``HELO``, ``MAIL``,
        ``RCPT``, ``DATA`` (incl. end of data), ``AUTH`` or ``STARTTLS``.
    kind : str
        What the message is, one of `KINDS`: a failure (``failed``, ``delayed``), or not
        (``auto_reply``, ``feedback_report``, ``delivered`` (DSN Action delivered, relayed
        or expanded: ``dsn_action`` tells which), ``not_bounce``).
    recipient : str or None
        The address concerned, when the message names it.
    dsn_action : str or None
        The DSN ``Action`` field as written (``failed``, ``delayed``, ...); None for prose.
    remote_mta : str or None
        The host that gave the error, when named.
    feedback_type : str or None
        For a ``feedback_report`` (RFC 5965): its ``Feedback-Type`` (``abuse``, ``fraud``...).
    source : str
        The file the record comes from (``-`` for standard input or the API).
    index : int or None
        Where in ``source``: the message number (0-based) in an mbox, Maildir or folder;
        the line number (1-based) where the row starts in a CSV, JSONL or text file;
        None for a single ``.eml`` file or an API input.
    note : str or None
        Anything the reader wants a person to know about this record (damage, guesses).
    """

    text: str = ""
    status: str | None = None
    reply_code: str | None = None
    smtp_command: str | None = None
    kind: Kind = "failed"
    recipient: str | None = None
    dsn_action: str | None = None
    remote_mta: str | None = None
    feedback_type: str | None = None
    source: str = "-"
    index: int | None = None
    note: str | None = None

    def with_note(self, note: str) -> BounceRecord:
        """A copy with ``note`` added after any note already there."""
        return replace(self, note=f"{self.note}; {note}" if self.note else note)

    @property
    def is_failure(self) -> bool:
        """Whether this record gets a failure label (kind ``failed`` or ``delayed``)."""
        return self.kind in FAILURE_KINDS

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict, in output column order."""
        return asdict(self)

    @classmethod
    def from_dict(cls, fields: dict[str, Any], *, where: str = "record") -> BounceRecord:
        """Build a record from a JSON-like dict (the service, JSONL rows), checking each field.

        Raises
        ------
        BounceMLError
            One line naming ``where`` and the field that is unknown or of the wrong type.
        """
        unknown = sorted(set(fields) - set(_FIELD_NAMES))
        if unknown:
            raise BounceMLError(f"{where}: unknown field {unknown[0]!r}")
        for name, value in fields.items():
            if name == "index":
                ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
            elif name in ("text", "source", "kind"):
                ok = isinstance(value, str)
            else:
                ok = value is None or isinstance(value, str)
            if not ok:
                raise BounceMLError(f"{where}: field {name!r} has the wrong type")
        if "kind" in fields and fields["kind"] not in KINDS:
            raise BounceMLError(
                f"{where}: field 'kind' must be one of {', '.join(KINDS)}, not {fields['kind']!r}"
            )
        return cls(**fields)


_FIELD_NAMES = tuple(BounceRecord.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """Something that could not be read and was skipped.

    Attributes
    ----------
    source : str
        The file concerned.
    index : int or None
        Message number or line number, as in `BounceRecord.index`; None for the whole file.
    reason : str
        What went wrong, for a person to read.
    """

    source: str
    index: int | None
    reason: str
