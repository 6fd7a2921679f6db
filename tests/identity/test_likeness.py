"""What the linkage model compares: Chinese names in one form, whatever way they were typed."""

import pytest

from leadpond.identity.likeness import birthday_digits, name_parts, person_record


@pytest.mark.parametrize(
    "traits",
    [
        {"name": "王 洋伟"},
        {"name": "王洋伟"},
        {"name": "王洋偉"},
        {"name": "Yangwei Wang"},
        {"first_name": "洋伟", "last_name": "王"},
        {"first_name": "Yangwei", "last_name": "Wang"},
    ],
)
def test_one_chinese_name_however_typed(traits: dict[str, str]) -> None:
    given, surname, _key = name_parts(traits)
    assert (given, surname) == ("yangwei", "wang")


def test_compound_surnames_stay_whole() -> None:
    assert name_parts({"name": "欧阳娜娜"})[:2] == ("nana", "ouyang")
    assert name_parts({"name": "司马 光"})[:2] == ("guang", "sima")


def test_surname_first_pinyin_is_the_swapped_order() -> None:
    given, surname, _ = name_parts({"name": "Wang Yangwei"})
    assert (given, surname) == ("wang", "yangwei")


@pytest.mark.parametrize("value", ["1985-03-02", "19850302", "1985/03/02", "1985-03-02T00:00:00Z"])
def test_birthdays_become_digits(value: str) -> None:
    assert birthday_digits(value) == "19850302"


def test_a_record_keeps_what_survives_retyping() -> None:
    record = person_record(
        7,
        {
            "name": "陳小明",
            "phone": "+86 139-1234-5678",
            "email": "Chen.XiaoMing+events@Example.cn",
            "company": "天津凯天农村商業銀行股份有限公司 科技部",
            "address": {"street": "南京路 1号", "city": "上海", "postalCode": "200001"},
        },
        changed=True,
    )
    assert record["name_key"] == "陈小明"
    assert record["phone"] == "12345678"
    assert record["email_local"] is None  # made of the name: no evidence of its own
    assert record["company"] == "天津凯天农村商业银行"
    assert (record["city"], record["postcode"]) == ("上海", "200001")


def test_an_email_name_of_ones_own_is_kept() -> None:
    record = person_record(1, {"name": "杜伟", "email": "tiger88@qq.com"}, changed=False)
    assert record["email_local"] == "tiger88"
    assert person_record(2, {"name": "杜伟", "email": "du.wei@x.cn"}, False)["email_local"] is None
