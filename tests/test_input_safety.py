"""Input safety: symbolic links, compressed files, encodings."""

from __future__ import annotations

import shutil
from pathlib import Path

from bounce_ml.mail.readers import iter_records
from bounce_ml.mail.records import BounceRecord, ReadProblem

FIXTURES = Path(__file__).parent / "fixtures"
EML = FIXTURES / "emails" / "postfix_dsn_user_unknown.eml"


def test_symlinks_out_of_a_folder_are_skipped_and_reported(tmp_path: Path) -> None:
    outside = tmp_path / "secrets"
    outside.mkdir()
    (outside / "env.eml").write_text("DB_PASSWORD=hunter2\n", encoding="utf-8")
    (outside / "deep").mkdir()
    (outside / "deep" / "more.eml").write_bytes(EML.read_bytes())
    folder = tmp_path / "mail"
    folder.mkdir()
    shutil.copy(EML, folder / "real.eml")
    (folder / "leak.eml").symlink_to(outside / "env.eml")
    (folder / "same.eml").symlink_to(folder / "real.eml")  # stays inside: read
    (folder / "linked-dir").symlink_to(outside / "deep")
    items = list(iter_records(folder))
    records = [item for item in items if isinstance(item, BounceRecord)]
    problems = {Path(p.source).name: p.reason for p in items if isinstance(p, ReadProblem)}
    assert sorted(Path(r.source).name for r in records) == ["real.eml", "same.eml"]
    assert problems == {
        "leak.eml": "symbolic link to a file outside the folder; not followed",
        "linked-dir": "symbolic link to a folder outside the folder; not followed",
    }
    assert not any("hunter2" in r.text for r in records)


def test_maildir_subfolders_linked_elsewhere_are_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(EML, elsewhere / "1.eml")
    maildir = tmp_path / "Maildir"
    (maildir / "new").mkdir(parents=True)
    shutil.copy(EML, maildir / "new" / "2")
    (maildir / "cur").symlink_to(elsewhere)
    items = list(iter_records(maildir))
    assert [(Path(i.source).name, type(i).__name__) for i in items] == [
        ("cur", "ReadProblem"),
        ("2", "BounceRecord"),
    ]
