import subprocess
import sys

from bounce_ml.text.normalize import normalize_text
from bounce_ml.text.tokenize import tokenize


def test_mixed_chinese_and_english_line() -> None:
    tokens = tokenize(normalize_text("550 用户不存在 user not found"))
    assert tokens == ["550", "用户", "不", "存在", "user", "not", "found"]


def test_codes_and_placeholders_stay_whole() -> None:
    tokens = tokenize(normalize_text("550-5.1.1 <a@b.cn>: 收件人郵箱已滿 (#5.2.2)"))
    assert tokens[:3] == ["550", "5.1.1", "<email>"]
    assert "5.2.2" in tokens and "邮箱" in tokens


def test_jieba_is_silent_in_a_fresh_process() -> None:
    code = "from bounce_ml.text.tokenize import tokenize; print(tokenize('邮件被退回'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr == ""
    assert done.stdout.strip() == "['邮件', '被', '退回']"
