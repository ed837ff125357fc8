"""The README's Python examples run as written."""

import doctest

from bounce_ml import config


def test_readme_python_examples() -> None:
    result = doctest.testfile(str(config.PROJ_ROOT / "README.md"), module_relative=False)
    assert result.attempted >= 3
    assert result.failed == 0
