"""An installed wheel stands on its own: it predicts, and never writes into its package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, unpacked into a folder of its own."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", work, ROOT],
        check=True,
    )
    target = work / "site"
    wheel = next(work.glob("bounce_ml-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "-t", target, wheel],
        check=True,
    )
    return target


def _bounce_ml(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The wheel's copy comes first on the path, ahead of this checkout's editable install.
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    code = "import sys; from bounce_ml.cli import app; sys.argv[0] = 'bounce-ml'; app()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd
    )


@pytest.mark.slow
def test_installed_wheel_predicts_with_its_packaged_model(installed: Path, tmp_path) -> None:
    result = _bounce_ml(installed, "predict", "-f", "jsonl", "552 5.2.2 Mailbox full", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"label": "mailbox_full"' in result.stdout
    assert '"decided_by": "model"' in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train"], "no corpus/ folder here"),
        (["data", "check"], "no corpus/ folder here"),
        (["train", "--data-dir", str(ROOT / "data")], "pass --model DIR"),
        (
            ["evaluate", "--data", str(ROOT / "tests" / "fixtures" / "readers" / "ragged.csv")],
            "pass --out DIR",
        ),
    ],
)
def test_installed_wheel_asks_where_to_read_and_write(
    installed: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    before = sorted(p.relative_to(installed) for p in installed.rglob("*"))
    result = _bounce_ml(installed, *args, cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.relative_to(installed) for p in installed.rglob("*")) == before
