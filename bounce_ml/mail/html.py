"""The visible text of an HTML part, in time linear in its length.

The standard library's ``HTMLParser`` takes quadratic time on some inputs (200,000 ``</``
took half a minute), and a bounce's HTML is the easy kind: tags are dropped, block elements
end a line, ``head``, ``script`` and ``style`` are hidden and entities are decoded.
"""

from __future__ import annotations

import html
import re

__all__ = ["html_to_text"]

# A tag never contains "<", so each character is looked at a bounded number of times.
_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)?[^<>]*>|[^<]+|<")
_BLOCKS = frozenset({"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "hr"})
_HIDDEN = frozenset({"head", "script", "style", "title"})
_SPACES = re.compile(r"\s+")


def html_to_text(markup: str) -> str:
    """Visible text of ``markup``, one line per block element.

    >>> html_to_text("<p>550 5.1.1 <b>User</b>&nbsp;unknown</p><style>p {}</style>")
    '\\n550 5.1.1 User unknown\\n'
    """
    chunks: list[str] = []
    hidden = 0
    for match in _TOKEN.finditer(markup):
        closing, tag = match.group(1), match.group(2)
        if tag is not None:
            tag = tag.lower()
            if tag in _HIDDEN:
                hidden = max(0, hidden - 1) if closing else hidden + 1
            elif tag in _BLOCKS:
                chunks.append("\n")
        elif match.group().startswith("<") and match.group() != "<":
            continue  # a comment, doctype or processing instruction
        elif not hidden:
            # Line breaks in HTML source are not line breaks on screen; lines matter to
            # the recipient patterns, so only block elements make them.
            chunks.append(_SPACES.sub(" ", html.unescape(match.group())))
    return "".join(chunks)
