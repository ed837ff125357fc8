"""Run one command and report its wall time, CPU time and peak memory, as JSON.

Why a separate process: Linux reports a child's peak memory (``ru_maxrss``) as the
larger of the command's own peak and the memory of the process that started it,
up to the moment the command replaces it (``exec``). Started straight from the
benchmark, which holds hundreds of MB by then, every command would seem at least
that large. This launcher is a small Python process (about 10 MB), below any
command it measures, so the figure is the command's own.

    python bench/launcher.py REPORT.json COMMAND [ARG...]

The command's standard output and error are inherited; the measurement is written
to REPORT.json, with the command's exit status.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    report, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    measured = {
        "status": os.waitstatus_to_exitcode(status),
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
    }
    with open(report, "w", encoding="utf-8") as handle:
        json.dump(measured, handle)


if __name__ == "__main__":
    main()
