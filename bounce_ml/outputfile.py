"""Writing a result file so that nothing the user has is lost.

- A regular file is written atomically: a temporary file beside it, renamed over it at
  the end, so an interrupted run leaves the old file (or none), never half a file. An
  existing file is replaced only when the caller allows it.
- A symbolic link is followed: the file it points to is replaced and the link stays.
- A character device or a pipe (``/dev/stdout``, ``/dev/null``, a FIFO) is written to
  directly; it is never replaced by a regular file.
- Anything else (a folder, a block device, a socket) is refused.
- A new file gets the permissions the umask allows, as a shell redirection would; a
  replaced file keeps its own.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from bounce_ml.errors import BounceMLError

__all__ = ["output_file"]


@contextmanager
def output_file(path: Path, *, overwrite: bool) -> Iterator[TextIO]:
    """A UTF-8 text stream that ends up at ``path`` (see the module docstring).

    Raises
    ------
    BounceMLError
        When ``path`` exists and ``overwrite`` is False, is not something that can be
        written to, or its folder does not exist.
    """
    try:
        info: os.stat_result | None = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        info = None
    if info is not None and (stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
        with open(path, "w", encoding="utf-8", newline="") as stream:
            yield stream
        return
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise BounceMLError(f"{path}: not a regular file (a folder or a device); not replacing it")
    if info is not None and not overwrite:
        raise BounceMLError(f"{path}: already exists (use --overwrite to replace it)")
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        raise BounceMLError(f"{path}: folder {target.parent} does not exist")
    mode = stat.S_IMODE(info.st_mode) if info is not None else _mode_for_new_files()
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _mode_for_new_files() -> int:
    """What ``open()`` would give a new file: read-write for all, less the umask."""
    umask = os.umask(0)  # the umask can only be read by setting it
    os.umask(umask)
    return 0o666 & ~umask
