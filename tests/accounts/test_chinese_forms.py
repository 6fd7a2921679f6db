"""Company names in traditional characters or with a department after them are the company."""

import pytest

from leadpond.accounts.duplicates import (
    Profile,
    _Clusters,
    agencies,
    candidate_pairs,
    compare,
    compare_explicit,
    profile,
    short_names,
    unambiguous,
)
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


def _profile(id_: int, name: str, keys: list[tuple[str, str]] | None = None) -> Profile:
    return profile(Account(id=id_, name=name), keys or [])


def test_group_ids_of_two_systems_do_not_keep_one_company_apart() -> None:
    # A CRM account id and a product tenant id: one company, two group ids.
    crm = _profile(1, "北京川正商贸有限公司", [("group_id", "001A0022EA3908FB")])
    tenant = _profile(2, "北京川正商贸有限公司", [("group_id", "tn_d875d01d17fe")])
    found = compare(crm, tenant)
    assert found is not None and found[0] >= 0.95
    assert compare_explicit(crm, tenant)


def test_different_mail_domains_are_two_companies() -> None:
    a = _profile(1, "北京川正商贸有限公司", [("domain", "chuanzheng.com")])
    b = _profile(2, "北京川正商贸有限公司", [("domain", "chuanzheng-trade.cn")])
    assert compare(a, b) is None


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Chongqing Jialang Logistics", "佳朗汽车"),  # logistics is not a car maker
        ("Shijiazhuang Dingxin Manufacturing", "鼎鑫石化有限公司"),  # nor a refinery
    ],
)
def test_an_english_industry_must_fit_the_chinese_one(english: str, chinese: str) -> None:
    assert compare(_profile(1, english), _profile(2, chinese)) is None


def test_an_english_name_meets_no_account_whose_other_names_name_another_industry() -> None:
    english = _profile(1, "Shijiazhuang Dingxin Manufacturing")
    bank = profile(Account(id=2, name="鼎信"), [("name", "鼎信银行")])
    assert compare(english, bank) is None
    assert compare(english, _profile(3, "鼎信")) is not None  # a bare trade name fits anything


def _pairs(profiles: list[Profile]) -> set[tuple[int, int]]:
    found = [(a, b, s) for a, b in candidate_pairs(profiles) if (s := compare(a, b))]
    return {(a.id, b.id) for a, b, _ in unambiguous(found)}


def test_an_english_name_keeps_only_its_best_match() -> None:
    english = _profile(1, "Tianjin Kaitian Bank Co., Ltd.")
    with_region = _profile(2, BANK)
    bare = _profile(3, "凯天")
    assert _pairs([english, with_region, bare]) == {(1, 2)}


def test_pinyin_meeting_two_trade_names_is_ambiguous() -> None:
    english = _profile(1, "Shijiazhuang Dingxin Manufacturing")
    assert _pairs([english, _profile(2, "鼎信"), _profile(3, "鼎鑫")]) == set()
    assert _pairs([english, _profile(2, "鼎信"), _profile(3, "鼎信精密制造有限公司")]) == {
        (1, 2),
        (1, 3),
    }


@pytest.mark.parametrize(
    ("agency", "department"),
    [
        ("深圳市新城区人力资源和社会保障局", "深圳市新城区人力资源和社会保障局信息中心"),
        ("大连市公安局", "大连市公安局科技信息化处"),
        ("北京市税务局", "北京市税务局 IT部"),
    ],
)
def test_a_department_of_an_agency_is_the_agency(agency: str, department: str) -> None:
    assert normalise_company_name(department) == normalise_company_name(agency)


def test_an_agency_anchor_without_a_city_is_no_agency() -> None:
    name = normalise_company_name("布局网络科技部")
    assert name is not None and name.full_key == "布局网络科技部"


def test_agencies_of_two_cities_do_not_meet_without_their_city() -> None:
    beijing, changsha = _profile(1, "北京市税务局"), _profile(2, "长沙市税务局 IT部")
    dalian, tianjin = _profile(3, "大连市公"), _profile(4, "天津市公")
    assert compare(beijing, changsha) is None and compare(dalian, tianjin) is None
    assert list(short_names([beijing, changsha, dalian, tianjin], _Clusters())) == []


def test_an_english_agency_name_meets_the_one_agency_of_its_kind_in_its_city() -> None:
    english = _profile(1, "Zhengzhou Municipal Bureau")
    tax = _profile(2, "郑州市税务局")
    center = _profile(3, "郑州市政务服务中心")
    elsewhere = _profile(4, "洛阳市税务局")
    assert [(e.id, c.id) for e, c in agencies([english, tax, center, elsewhere], _Clusters())] == [
        (1, 2)
    ]
    centre = _profile(5, "Zhengzhou Municipal Center")
    assert [(e.id, c.id) for e, c in agencies([centre, tax, center], _Clusters())] == [(5, 3)]


def test_an_english_agency_name_meeting_two_agencies_is_ambiguous() -> None:
    english = _profile(1, "Zhengzhou Municipal Bureau")
    tax, labour = _profile(2, "郑州市税务局"), _profile(3, "郑州市人力资源和社会保障局")
    assert list(agencies([english, tax, labour], _Clusters())) == []
    joined = _Clusters()
    joined.join(2, 3)  # already suggested as one: still one candidate
    assert [(e.id, c.id) for e, c in agencies([english, tax, labour], joined)] == [(1, 2)]
    # A city's shared mail domain decides nothing; a different credit code keeps them apart.
    coded = _profile(4, "Zhengzhou Municipal Bureau", [("uscc", "11410100MB1234567X")])
    other = _profile(5, "郑州市税务局", [("uscc", "11410100MB7654321X")])
    assert list(agencies([coded, other], _Clusters())) == []
