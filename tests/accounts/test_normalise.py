"""Normal forms of company names, credit codes, mail domains and job titles (pure functions)."""

import pytest

from leadpond.normalise.company import (
    email_domain,
    infer_role,
    is_free_mail_domain,
    normalise_company_name,
    normalise_domain,
    validate_uscc,
)
from leadpond.normalise.roles import DEFAULT_ROLE_KEYWORDS, InvalidRoleTable, check_role_table


def _full(text: str) -> str | None:
    name = normalise_company_name(text)
    return None if name is None else name.full_key


def _core(text: str) -> str | None:
    name = normalise_company_name(text)
    return None if name is None else name.core_key


@pytest.mark.parametrize(
    ("typed", "full_key"),
    [
        ("北京星环信息科技有限公司", "星环信息科技"),
        ("星环信息科技（上海）有限公司", "星环信息科技"),
        ("星环信息科技(上海)有限公司", "星环信息科技"),
        ("星环信息科技【上海】有限公司", "星环信息科技"),
        ("  星环 信息 科技 有限 公司 ", "星环信息科技"),
        ("北京市星环信息科技有限责任公司", "星环信息科技"),
        ("广东省深圳市华强电子有限公司", "华强电子"),
        ("星环信息科技有限公司上海分公司", "星环信息科技"),
        ("星环科技上海办事处", "星环科技"),
        ("星环信息科技有限公", "星环信息科技"),
        ("中国平安保险（集团）股份有限公司", "平安保险"),
        ("西门子（中国）有限公司", "西门子"),
        ("ＩＢＭ（中国）有限公司", "ibm"),
        ("StarRing Technology Co., Ltd.", "starringtechnology"),
        ("Starring  Technology  Limited", "starringtechnology"),
        ("Siemens Ltd., China", "siemens"),
        ("中国建设银行股份有限公司北京市分行", "建设银行"),
        ("中国工商银行北京海淀支行", "工商银行"),
    ],
)
def test_format_variants_share_a_full_key(typed: str, full_key: str) -> None:
    assert _full(typed) == full_key


def test_the_three_forms_of_one_company_meet_on_the_core_key() -> None:
    forms = ["北京星环信息科技有限公司", "星环信息科技（上海）有限公司", "星环科技"]
    assert {_core(form) for form in forms} == {"星环"}
    assert normalise_company_name("星环科技").core_matchable  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("中国银行", "中国建设银行"),
        ("北京银行", "南京银行"),
        ("上海交通大学", "西安交通大学"),
        ("北京汽车集团有限公司", "上海汽车集团股份有限公司"),
        ("青岛啤酒股份有限公司", "哈尔滨啤酒有限公司"),
        ("京东方科技集团股份有限公司", "北京京东世纪贸易有限公司"),
        ("时代中国控股有限公司", "宁德时代新能源科技股份有限公司"),
    ],
)
def test_confusable_companies_keep_apart(one: str, other: str) -> None:
    assert _full(one) != _full(other)
    assert _core(one) != _core(other)


def test_a_region_that_is_part_of_the_identity_stays() -> None:
    assert _full("北京银行股份有限公司") == "北京银行"
    assert _full("上海交通大学") == "上海交通大学"
    assert _full("北京汽车") == "北京汽车"  # nothing but an industry word would remain
    assert normalise_company_name("中国银行").institution  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "typed", ["", "  ", "个人", "无", "N/A", "北京", "北京市", "科技有限公司", "有限公司"]
)
def test_values_that_name_no_company(typed: str) -> None:
    assert normalise_company_name(typed) is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("91110000600037341L", "91110000600037341L"),
        ("9111 0000 6000 3734 1L", "91110000600037341L"),
        ("９１１１００００６０００３７３４１Ｌ", "91110000600037341L"),
        ("91110000600037341l", "91110000600037341L"),
        ("N2110000MA00000014", "N2110000MA00000014"),  # farmers' cooperative authority
        ("Y1310000MA1FL00001", "Y1310000MA1FL00001"),
        ("A1100000MB0000001H", "A1100000MB0000001H"),
    ],
)
def test_valid_credit_codes(typed: str, code: str) -> None:
    assert validate_uscc(typed) == code


@pytest.mark.parametrize(
    "typed",
    [
        "91110000600037341M",  # wrong check character
        "N2110000MA00000015",
        "9111000060003734",  # too short
        "9111000060003734IL",  # I is not in the alphabet
        "91AB0000600037341L",  # region code must be digits
        "",
    ],
)
def test_invalid_credit_codes(typed: str) -> None:
    assert validate_uscc(typed) is None


@pytest.mark.parametrize(
    "domain",
    ["qq.com", "vip.qq.com", "foxmail.com", "163.com", "vip.163.com", "126.com", "yeah.net",
     "sina.com", "vip.sohu.com", "aliyun.com", "139.com", "189.cn", "wo.cn", "263.net",
     "gmail.com", "outlook.com", "QQ.COM"],
)  # fmt: skip
def test_free_mail_domains(domain: str) -> None:
    assert is_free_mail_domain(domain)


def test_corporate_mail_domains() -> None:
    assert not is_free_mail_domain("transwarp.io")
    assert email_domain("Zhang.San@Transwarp.IO") == "transwarp.io"
    assert email_domain("zhang@vip.163.com") is None
    assert email_domain("not an email") is None


def test_domains_from_urls_and_addresses() -> None:
    assert normalise_domain("https://www.Transwarp.cn/about?x=1") == "transwarp.cn"
    assert normalise_domain("info@transwarp.cn") == "transwarp.cn"
    assert normalise_domain("transwarp") is None


@pytest.mark.parametrize(
    ("title", "role"),
    [
        ("CIO", "executive"),
        ("CTO / 联合创始人", "executive"),
        ("信息中心主任", "executive"),
        ("Chief Information Officer", "executive"),
        ("IT部门经理", "department_head"),
        ("部门经理", "department_head"),
        ("Director of IT", "department_head"),
        ("项目经理", "project_manager"),
        ("高级项目经理", "project_manager"),
        ("Senior Project Manager", "project_manager"),
        ("软件工程师", "engineer"),
        ("总工程师", "executive"),
        ("DevOps Engineer", "engineer"),
        ("采购", "procurement"),
        ("采购经理", "procurement"),
        ("采购工程师", "procurement"),
        ("Procurement Manager", "procurement"),
        ("销售代表", "other"),
        ("Director", "department_head"),  # 'cto' inside 'director' is no CTO
    ],
)
def test_roles_from_titles(title: str, role: str) -> None:
    assert infer_role(title) == role


def test_no_title_no_role() -> None:
    assert infer_role(None) is None
    assert infer_role("  ") is None


def test_the_keyword_table_is_configurable() -> None:
    table = {**DEFAULT_ROLE_KEYWORDS, "procurement": ["商务"]}
    assert infer_role("商务专员", table) == "procurement"
    assert infer_role("商务专员") == "other"


def test_a_malformed_keyword_table_is_refused() -> None:
    with pytest.raises(InvalidRoleTable):
        check_role_table({"boss": ["老板"]})
    with pytest.raises(InvalidRoleTable):
        check_role_table({"executive": "CEO"})
    with pytest.raises(InvalidRoleTable):
        check_role_table({})
