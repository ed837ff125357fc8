"""The items that the input readers produce: a bounce record, or a problem report."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class BounceRecord:
    """One failed (or delayed) recipient of a bounce message, or one line of a batch file.

    Attributes
    ----------
    source : str
        The file the record comes from (``-`` for standard input).
    index : int or None
        Where in ``source``: the message number (0-based) in an mbox, Maildir or folder;
        the line number (1-based) where the row starts in a CSV, JSONL or text file;
        None for a single ``.eml`` file.
    recipient : str or None
        The failed address, when the message names it.
    status : str or None
        The enhanced status code (``5.1.1``) or, failing that, the SMTP reply code (``550``).
    action : str or None
        The DSN ``Action`` (``failed`` or ``delayed``); None for prose reports and batch lines.
    remote_mta : str or None
        The host that gave the error, when named.
    diagnostic : str
        The error text to classify; empty when the message is not a bounce.
    note : str or None
        Anything the reader wants a person to know about this record (damage, guesses).
    """

    source: str
    index: int | None
    recipient: str | None
    status: str | None
    action: str | None
    remote_mta: str | None
    diagnostic: str
    note: str | None = None

    @classmethod
    def text_only(
        cls, source: str, index: int | None, diagnostic: str, status: str | None, note: str | None
    ) -> BounceRecord:
        """A record that has only error text: no recipient, action or remote host known."""
        return cls(source, index, None, status, None, None, diagnostic, note)

    def with_note(self, note: str) -> BounceRecord:
        """A copy with ``note`` added after any note already there."""
        return replace(self, note=f"{self.note}; {note}" if self.note else note)


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
