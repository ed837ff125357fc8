import subprocess
import sys

from bounce_ml import config
from bounce_ml.predict.artifacts import load_model
from bounce_ml.text.normalize import normalize_text
from bounce_ml.text.tokenize import Tokenizer

tokenize = Tokenizer(load_model(config.MODELS_DIR).scorer.segmenter)


def test_mixed_chinese_and_english_line() -> None:
    tokens = tokenize(normalize_text("550 用户不存在 user not found"))
    assert tokens == ["550", "用户", "不", "存在", "user", "not", "found"]


def test_codes_and_placeholders_stay_whole() -> None:
    tokens = tokenize(normalize_text("550-5.1.1 <a@b.cn>: 收件人郵箱已滿 (#5.2.2)"))
    assert tokens[:3] == ["550", "5.1.1", "<email>"]
    assert "5.2.2" in tokens and "邮箱" in tokens


def test_chinese_prediction_never_imports_jieba_nor_logging() -> None:
    # logging is for quieting jieba while training; importing it costs a cold start ~3 ms
    code = (
        "import sys\n"
        "from bounce_ml import classify\n"
        "print(classify('邮件被退回：收件人不存在').label, 'jieba' in sys.modules, "
        "'logging' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr == ""
    assert done.stdout.split() == ["user_unknown", "False", "False"]
