"""Company names in traditional characters or with a department after them are the company."""

import pytest

from leadpond.accounts.duplicates import compare, profile
from leadpond.accounts.models import Account
from leadpond.normalise.company import normalise_company_name

BANK = "天津凯天农村商业银行股份有限公司"


@pytest.mark.parametrize(
    "written",
    [
        "天津凯天农村商業銀行股份有限公司",
        f"{BANK} 科技部",
        f"{BANK}信息中心",
        f"{BANK} IT部",
        f"  {BANK}  ",
    ],
)
def test_forms_of_one_bank_share_its_key(written: str) -> None:
    assert normalise_company_name(written) == normalise_company_name(BANK)


def test_a_branch_is_still_not_a_department() -> None:
    name = normalise_company_name("中国银行北京分行")
    assert name is not None and name.full_key == "中国银行"


def test_an_english_name_meets_its_chinese_bank_only_in_the_same_city() -> None:
    chinese = profile(Account(id=1, name=BANK), [])
    english = profile(Account(id=2, name="Tianjin Kaitian Bank Co., Ltd."), [])
    elsewhere = profile(Account(id=3, name="Ningbo Kaitian Bank Co., Ltd."), [])
    other_trade = profile(Account(id=4, name="北京凯天科技有限公司"), [])
    found = compare(chinese, english)
    assert found is not None and found[0] >= 0.95
    assert compare(chinese, elsewhere) is None
    assert compare(english, other_trade) is None


def test_different_credit_codes_are_two_companies() -> None:
    a = profile(Account(id=1, name=BANK), [("uscc", "91120000MA05LXXX1A")])
    b = profile(Account(id=2, name="天津凯天农村商業銀行"), [("uscc", "91120000MA05LYYY2B")])
    assert compare(a, b) is None
