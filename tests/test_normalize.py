import pytest

from bounce_ml.text.normalize import normalize_text, to_simplified


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("550 5.1.1 <Bob.Smith@Example.COM>: User unknown", "550 5.1.1 <email> : user unknown"),
        ("host mx1.mail.example.net[203.0.113.5] said:", "host <host>[ <ip> ] said:"),
        ("from 2001:db8::1 at", "from <ip> at"),
        ("see https://support.google.com/mail/?p=NoSuchUser", "see <url> mail p nosuchuser"),
        ("queue id 4F2A31C0123 dropped", "queue id <id> dropped"),
        ("size 7372800 bytes", "size <num> bytes"),
        ("listed in bl.spamcop.net", "listed in <host> spamcop"),
    ],
)
def test_volatile_parts_are_masked(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("code", ["550", "421", "552", "5.1.1", "4.7.0", "5.7.26"])
def test_status_codes_survive(code: str) -> None:
    assert code in normalize_text(f"{code} something happened").split()


def test_traditional_and_simplified_meet() -> None:
    assert normalize_text("郵件地址不存在") == normalize_text("邮件地址不存在")
    # the seed's conversion slips are repaired too
    assert to_simplified("請確認繫統地阯") == "请确认系统地址"


def test_nfkc_lowercase_and_whitespace() -> None:
    assert normalize_text("  ＵＳＥＲ　Unknown\n\t(#5.1.1) ") == "user unknown (#5.1.1)"


def test_control_characters_and_nul_become_spaces() -> None:
    assert normalize_text("user\x00unknown\x07") == "user unknown"
