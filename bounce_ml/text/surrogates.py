"""Lone surrogates: characters a Python string can hold and UTF-8 cannot write.

Python makes them from bytes that are not UTF-8 (in arguments, standard input and file
names, with ``surrogateescape``), and JSON makes them from escapes such as ``"\\udc80"``.
Whatever writes text out (the output rows, the feedback store, the service) replaces
them by U+FFFD, so that one bad character never stops a row, a batch or a request.
"""

from __future__ import annotations

import re

_LONE_SURROGATES = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def has_lone_surrogates(text: str) -> bool:
    """Whether ``text`` holds a character that cannot be written as UTF-8."""
    # isascii() first: it is C-fast, and ASCII text holds no surrogate.
    return not text.isascii() and _LONE_SURROGATES.search(text) is not None


def replace_lone_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD.

    >>> replace_lone_surrogates("\\udc80 550 user unknown")
    '\\ufffd 550 user unknown'
    """
    return _LONE_SURROGATES.sub(REPLACEMENT, text) if has_lone_surrogates(text) else text
