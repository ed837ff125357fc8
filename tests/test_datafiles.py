"""Every TOML data file is checked by one schema layer; errors name file, table and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bounce_ml import config
from bounce_ml.corpus.variants import load_shapes
from bounce_ml.errors import BounceMLError
from bounce_ml.train.pipeline import load_params


def _edited(source: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text  # the edit must change something, or the test proves nothing
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "max_iter = 3000",
            'max_iter = "many"',
            r"\[classifier\]: key 'max_iter' must be an integer",
        ),
        ("ngram_range = [1, 2]", "ngram_range = [1]", r"\[words\]: key 'ngram_range' must have 2"),
        ("min_df = 2", "min_dfs = 2", r"\[chars\]: unknown key 'min_dfs'"),
        ("[cv]", "[crossval]", r"model\.toml: unknown key 'crossval'"),
        ("random_state = 0", "random_state = true", "key 'random_state' must be an integer"),
    ],
)
def test_model_toml_mistakes_name_the_table_and_key(tmp_path, old, new, message) -> None:
    with pytest.raises(BounceMLError, match=message):
        load_params(_edited(config.PARAMS_PATH, tmp_path, old, new))


def test_the_shipped_model_toml_is_valid() -> None:
    params = load_params()
    assert params["words"]["ngram_range"] == [1, 2]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'lang = "en"',
            'lang = "fr"',
            "shape 'postfix-said': key 'lang' must be one of en, zh, any",
        ),
        ('id = "dsn-smtp"', 'id = "postfix-said"', "shape 'postfix-said' defined twice"),
        ('template = "Remote Server', 'templat = "Remote Server', "unknown key 'templat'"),
    ],
)
def test_template_shapes_mistakes_name_the_shape(tmp_path, old, new, message) -> None:
    shapes = config.DATA_DIR / "templates" / "shapes.toml"
    with pytest.raises(BounceMLError, match=message):
        load_shapes(_edited(shapes, tmp_path, old, new))
