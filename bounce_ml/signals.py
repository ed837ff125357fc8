"""Stopping cleanly when asked to: SIGTERM and SIGHUP run the same clean-up as an error.

By default those signals end Python at once, so no ``finally`` block runs and temporary
files (a half-written ``--output``, a model being staged) stay behind. Inside
`clean_exit_on_signals` they raise `SystemExit` instead, with the exit code a shell
gives a process killed by the signal (128 + its number).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["clean_exit_on_signals"]

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _stop(signum: int, frame: FrameType | None) -> None:
    print(f"bounce-ml: stopped by {signal.Signals(signum).name}", file=sys.stderr)
    raise SystemExit(128 + signum)


@contextmanager
def clean_exit_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into `SystemExit` while the block runs (main thread only:
    elsewhere Python cannot set signal handlers, and this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _stop) for signum in _SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
