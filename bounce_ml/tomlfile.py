"""Reading the project's TOML data files, and checking them against a declared schema.

Every data file (taxonomy, rules, template shapes, hyper-parameters, status codes) is
checked the same way: each table declares its keys as `Key` objects, and
`check_table` / `check_tables` turn the first thing wrong into a `BounceMLError` that
names the file, the table and the key.

>>> keys = {"id": Key(str), "priority": Key(int)}
>>> check_table({"id": "x", "priority": "high"}, keys, "rules.toml: rule 'x'")
Traceback (most recent call last):
...
bounce_ml.errors.BounceMLError: rules.toml: rule 'x': key 'priority' must be an integer
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bounce_ml.errors import BounceMLError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

_TYPE_NAMES = {
    str: "a non-empty string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
}
_TYPE_NAMES.update({list: "a list", dict: "a table"})


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning a missing file or a syntax error into a BounceMLError."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise BounceMLError(f"{path}: file not found") from None
    except OSError as exc:
        raise BounceMLError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise BounceMLError(f"{path}: invalid TOML ({exc})") from None


@dataclass(frozen=True)
class Key:
    """What one key of a table must hold.

    Parameters
    ----------
    kind : type
        ``str`` (non-empty), ``int``, ``float`` (an integer is accepted), ``bool``,
        ``list`` or ``dict``.
    required : bool, default=True
        Whether the key must be present.
    choices : tuple, default=()
        When given, the only values allowed.
    items : type or None, default=None
        For a list: the type every item must have (strings must be non-empty).
    length : int or None, default=None
        For a list: the exact number of items.
    """

    kind: type
    required: bool = True
    choices: tuple[object, ...] = ()
    items: type | None = None
    length: int | None = None


def _has_type(value: object, kind: type) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str) and bool(value.strip())
    return isinstance(value, kind)


def _problem(value: object, key: Key) -> str | None:
    """What is wrong with ``value`` for ``key``, or None."""
    if not _has_type(value, key.kind):
        return f"must be {_TYPE_NAMES[key.kind]}"
    if key.choices and value not in key.choices:
        return "must be one of " + ", ".join(str(choice) for choice in key.choices)
    if isinstance(value, list):
        if key.length is not None and len(value) != key.length:
            return f"must have {key.length} items"
        if key.items is not None and not all(_has_type(item, key.items) for item in value):
            return f"must hold only {_TYPE_NAMES[key.items].removeprefix('a ')}s"
    return None


def check_table(
    value: object, keys: Mapping[str, Key], where: str, *, extra: bool = False
) -> dict[str, Any]:
    """Return ``value`` as a dict after checking it against ``keys``.

    ``where`` names the file and table in errors. Keys not declared are refused
    (a misspelt key would otherwise be ignored silently) unless ``extra`` is true.
    """
    if not isinstance(value, dict):
        raise BounceMLError(f"{where}: expected a table")
    if not extra:
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise BounceMLError(f"{where}: unknown key {unknown[0]!r}")
    for name, key in keys.items():
        if name not in value:
            if key.required:
                raise BounceMLError(f"{where}: missing key {name!r}")
            continue
        problem = _problem(value[name], key)
        if problem:
            raise BounceMLError(f"{where}: key {name!r} {problem}")
    return value


def check_tables(
    document: Mapping[str, Any], name: str, keys: Mapping[str, Key], path: Path
) -> list[dict[str, Any]]:
    """Check an array of tables ``[[name]]`` whose entries each have a unique ``id``.

    Errors name an entry by its id when it has one, else by its position (``#3``).
    """
    entries = document.get(name)
    if not isinstance(entries, list) or not entries:
        raise BounceMLError(f"{path}: no [[{name}]] tables")
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        where = f"{path}: [[{name}]] #{position}"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            where = f"{path}: {name} {entry['id']!r}"
        check_table(entry, keys, where)
        if entry["id"] in seen:
            raise BounceMLError(f"{path}: {name} {entry['id']!r} defined twice")
        seen.add(entry["id"])
    return entries
