"""Shared helpers of the forms tests: a trial form, reading a page's hidden inputs, posting."""

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

TRIAL: dict[str, Any] = {
    "key": "trial",
    "name_zh": "申请试用",
    "name_en": "Request a trial",
    "status": "published",
    "fields": [
        {
            "key": "name",
            "type": "text",
            "label_zh": "姓名",
            "label_en": "Name",
            "maps_to": "name",
            "required": True,
        },
        {
            "key": "mobile",
            "type": "mobile",
            "label_zh": "手机",
            "label_en": "Mobile",
            "required": True,
        },
        {"key": "email", "type": "email", "label_zh": "邮箱", "label_en": "Email"},
        {
            "key": "company",
            "type": "company",
            "label_zh": "公司",
            "label_en": "Company",
            "required": True,
        },
        {"key": "title", "type": "title", "label_zh": "职位", "label_en": "Title"},
        {
            "key": "product",
            "type": "select",
            "label_zh": "产品",
            "label_en": "Product",
            "options": [
                {"value": "graph", "label_zh": "图数据库", "label_en": "Graph DB"},
                {"value": "tsdb", "label_zh": "时序数据库", "label_en": "Time-series DB"},
            ],
        },
        {"key": "utm_source", "type": "hidden"},
        {"key": "channel", "type": "hidden"},
    ],
    "consents": [
        {
            "key": "email_ok",
            "channel": "email",
            "wording_zh": "我同意接收产品资讯邮件",
            "wording_en": "Email me product news",
        },
    ],
    "success_zh": "试用申请已收到",
    "success_en": "Your trial request is in",
    "conversion_event": "Trial Requested",
    "min_fill_seconds": 0,
}

_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def make_form(api: TestClient, **changes: Any) -> dict[str, Any]:
    answer = api.post("/api/v1/forms", json={**TRIAL, **changes})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def hidden_inputs(html: str) -> dict[str, str]:
    """The page's hidden inputs (render token, anonymous id, hidden fields)."""
    return {name: value for name, value in _INPUT.findall(html)}


def open_page(client: httpx.Client | TestClient, url: str, **headers: str) -> dict[str, str]:
    page = client.get(url, headers=headers)
    assert page.status_code == 200, page.text
    return hidden_inputs(page.text)


def post(
    client: httpx.Client | TestClient, url: str, page: dict[str, str], **values: str
) -> httpx.Response:
    return client.post(url, data={**page, **values}, follow_redirects=False)


PERSON = {
    "name": "王芳",
    "mobile": "138 0013 8000",
    "email": "Wang.Fang@Acme.cn",
    "company": "北京爱客科技有限公司",
    "title": "IT总监",
    "product": "graph",
}
