"""People import from CSV and XLSX: good rows become identify events, every bad row is reported."""

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadpond.cli import app as cli_app
from leadpond.config import get_settings
from leadpond.db.engine import read_only
from leadpond.ingest import importer
from leadpond.ingest.models import Event, ImportUpload
from leadpond.kit.errors import InvalidInput
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import finish_job

HEADER = "User ID,Email,Mobile,Name,Company,Lead Source,CRM ID"
NO_IDENTIFIER = "no identifier in this row (user_id, email, phone or an external id)"
GOOD_ROWS = [
    "u1,Li.Lei@Acme.cn,13800138000,Li Lei,Acme,Expo 2026,C-1",
    ",han.meimei@acme.cn,,Han Meimei,Acme,,",
    ",,+86 139 0013 9000,Wang Fang,Beta,Webinar,",
]


def _events(workspace: NewWorkspace) -> list[Event]:
    with read_only() as session:
        return list(
            session.scalars(
                select(Event).where(Event.workspace_id == workspace.workspace_id).order_by(Event.id)
            )
        )


def _csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode(encoding))
    return path


def _run(workspace: NewWorkspace, path: Path, **options: Any) -> dict[str, Any]:
    with path.open("rb") as stream:
        report = importer.import_people(workspace.workspace_id, stream, path.name, **options)
    return report.to_body()


def _cli(*args: str) -> Any:
    return CliRunner().invoke(cli_app, ["import", "people", *args])


def test_utf8_csv_rows_become_identify_events_from_the_import_channel(
    workspace: NewWorkspace, tmp_path: Path
) -> None:
    report = _run(workspace, _csv(tmp_path / "people.csv", [HEADER, *GOOD_ROWS]))
    assert report == {"imported": 3, "duplicates": 0, "rejected": [], "rows": 3}
    stored = _events(workspace)
    assert [(e.type, e.source, e.user_id, e.anonymous_id) for e in stored] == [
        ("identify", "import", "u1", None),
        ("identify", "import", None, None),
        ("identify", "import", None, None),
    ]
    first = stored[0].payload
    assert first["messageId"].startswith("import-")
    assert first["userId"] == "u1"
    assert first["traits"] == {
        "email": "Li.Lei@Acme.cn",
        "phone": "13800138000",
        "name": "Li Lei",
        "company": "Acme",
        "lead_source": "Expo 2026",
    }
    assert first["context"]["externalIds"] == [
        {"id": "C-1", "type": "crm_id", "collection": "users", "encoding": "none"}
    ]
    assert first["context"]["import"] == {"file": "people.csv", "row": 2}
    # Empty cells are skipped, never stored as "".
    second = {"email": "han.meimei@acme.cn", "name": "Han Meimei", "company": "Acme"}
    assert stored[1].payload["traits"] == second
    assert "externalIds" not in stored[1].payload["context"]


def test_utf8_bom_csv_reads_its_first_header(workspace: NewWorkspace, tmp_path: Path) -> None:
    path = _csv(tmp_path / "bom.csv", ["Email,Name", "a@acme.cn,A"], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert _run(workspace, path)["imported"] == 1
    assert _events(workspace)[0].payload["traits"] == {"email": "a@acme.cn", "name": "A"}


def test_gb18030_csv_with_chinese_headers(workspace: NewWorkspace, tmp_path: Path) -> None:
    lines = [
        "姓名,手机号码,邮箱,公司名称,职务,部门,省份,城市,统一社会信用代码,客户等级",
        "张伟,138-0013-8000,zhang.wei@huaxin.cn,华信科技有限公司,采购经理,采购部,广东,深圳,"
        "91440300MA5XXXXX1X,A类",
    ]
    path = _csv(tmp_path / "客户名单.csv", lines, encoding="gb18030")
    assert "张伟".encode("gb18030") in path.read_bytes()
    assert _run(workspace, path)["imported"] == 1
    traits = _events(workspace)[0].payload["traits"]
    known = "name phone email company title department province city uscc"
    assert set(traits) == {*known.split(), "客户等级"}
    assert [traits[k] for k in ("name", "company", "客户等级")] == [
        "张伟",
        "华信科技有限公司",
        "A类",
    ]


def _xlsx(path: Path, rows: list[list[Any]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_with_numeric_phones_and_date_cells(workspace: NewWorkspace, tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "leads.xlsx",
        [
            ["姓名", "手机", "邮箱", "创建时间", "员工数"],
            ["李娜", 13900139000, "li.na@acme.cn", datetime(2026, 3, 1, 9, 30), 250],
            [None, None, None, None, None],
            ["赵强", 1234, None, None, None],
        ],
    )
    report = _run(workspace, path)
    assert (report["rows"], report["imported"]) == (2, 1)
    problem = {
        "row": 4,
        "column": "手机",
        "code": "bad_phone",
        "reason": "not a valid phone number: '1234'",
        "value": "1234",
    }
    assert report["rejected"] == [problem]
    (event,) = _events(workspace)
    traits = {"name": "李娜", "phone": "13900139000", "email": "li.na@acme.cn", "员工数": "250"}
    assert event.payload["traits"] == traits
    # A time without an offset is Beijing time by default: 09:30 +08:00 is 01:30 UTC.
    assert event.timestamp == datetime(2026, 3, 1, 1, 30)
    assert event.payload["timestamp"] == "2026-03-01T01:30:00.000Z"


def test_every_bad_row_is_reported_with_its_row_and_column_and_good_rows_are_kept(
    workspace: NewWorkspace, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "mixed.csv",
        [
            "姓名,邮箱,手机,时间",
            "好人,good@acme.cn,,2026-01-05 10:00",
            "坏邮箱,not-an-email,,",
            ",,,",
            "两处错,x@,12345,",
            "没标识,,,",
            "坏时间,t@acme.cn,,下周一",
            "太早,early@acme.cn,,0001-01-01",
            "好人二,,13800138001,2026/1/6",
        ],
    )
    report = _run(workspace, path)
    assert report["rejected"] == [
        {
            "row": 3,
            "column": "邮箱",
            "code": "bad_email",
            "reason": "not a valid email address: 'not-an-email'",
            "value": "not-an-email",
        },
        {
            "row": 5,
            "column": "邮箱",
            "code": "bad_email",
            "reason": "not a valid email address: 'x@'",
            "value": "x@",
        },
        {
            "row": 5,
            "column": "手机",
            "code": "bad_phone",
            "reason": "not a valid phone number: '12345'",
            "value": "12345",
        },
        {
            "row": 6,
            "column": "邮箱, 手机",
            "code": "no_identifier",
            "reason": NO_IDENTIFIER,
            "value": "",
        },
        {
            "row": 7,
            "column": "时间",
            "code": "bad_time",
            "reason": "not a date or time: '下周一'",
            "value": "下周一",
        },
        {
            "row": 8,
            "column": "时间",
            "code": "bad_time",
            "reason": "not a date or time: '0001-01-01'",
            "value": "0001-01-01",
        },
    ]
    assert (report["rows"], report["imported"], report["duplicates"]) == (7, 2, 0)
    names = [e.payload["traits"]["name"] for e in _events(workspace)]
    assert names == ["好人", "好人二"]


def test_running_the_same_file_again_changes_nothing(
    workspace: NewWorkspace, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "people.csv", [HEADER, *GOOD_ROWS, "bad,nope,,,,,"])
    first = _run(workspace, path)
    before = [(e.id, e.message_id, e.payload) for e in _events(workspace)]
    again = _run(workspace, path)
    assert (first["imported"], first["duplicates"]) == (3, 0)
    assert (again["imported"], again["duplicates"], again["rows"]) == (0, 3, 4)
    assert again["rejected"] == first["rejected"]
    assert [(e.id, e.message_id, e.payload) for e in _events(workspace)] == before


def test_the_same_row_dedupes_across_files_and_formats(
    workspace: NewWorkspace, tmp_path: Path
) -> None:
    _run(workspace, _csv(tmp_path / "a.csv", ["Email,Mobile", " A@Acme.cn ,138 0013 8000"]))
    other = _xlsx(tmp_path / "b.xlsx", [["邮箱", "手机"], ["a@acme.cn", 13800138000]])
    assert _run(workspace, other) == {"imported": 0, "duplicates": 1, "rejected": [], "rows": 1}
    assert len(_events(workspace)) == 1


def test_one_value_changed_is_a_new_event(workspace: NewWorkspace, tmp_path: Path) -> None:
    _run(workspace, _csv(tmp_path / "a.csv", ["Email,Title", "a@acme.cn,Engineer"]))
    changed = _run(workspace, _csv(tmp_path / "b.csv", ["Email,Title", "a@acme.cn,CTO"]))
    assert changed["imported"] == 1
    assert [e.payload["traits"]["title"] for e in _events(workspace)] == ["Engineer", "CTO"]


def test_duplicate_rows_within_one_file_count_as_duplicates(
    workspace: NewWorkspace, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "twice.csv", ["Email", "a@acme.cn", "a@acme.cn", "b@acme.cn"])
    assert _run(workspace, path, chunk_rows=2)["imported"] == 2
    assert _run(workspace, path, chunk_rows=2)["duplicates"] == 3


def test_mapping_overrides_defaults_ignores_columns_and_adds_external_ids(
    workspace: NewWorkspace, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "crm.csv",
        ["Contact,Cell,Notes,会员号,Phone", "Li Lei,13800138000,call back,M-9,010-12345678"],
    )
    mapping = {"contact": "name", "CELL": "phone", "notes": "", "会员号": "external:member"}
    mapping |= {"Phone": "landline"}
    report = _run(workspace, path, mapping=mapping)
    assert report["imported"] == 1
    payload = _events(workspace)[0].payload
    assert payload["traits"] == {
        "name": "Li Lei",
        "phone": "13800138000",
        "landline": "010-12345678",
    }
    assert payload["context"]["externalIds"] == [
        {"id": "M-9", "type": "member", "collection": "users", "encoding": "none"}
    ]


def test_columns_are_planned_from_chinese_and_english_headers() -> None:
    columns = importer.plan_columns(
        [
            "用户ID",
            " E-Mail ",
            "手机号",
            "First Name",
            "LeadSource",
            "备注 信息",
            "",
            "WeChat OpenID",
        ]
    )
    assert [(c.header, c.target) for c in columns] == [
        ("用户ID", "user_id"),
        (" E-Mail ", "email"),
        ("手机号", "phone"),
        ("First Name", "first_name"),
        ("LeadSource", "lead_source"),
        ("备注 信息", "备注_信息"),
        ("WeChat OpenID", "wechat_openid"),
    ]


@pytest.mark.parametrize(
    ("headers", "mapping", "message"),
    [
        (["手机", "电话"], None, "both map to 'phone'"),
        (["Name", "Company"], None, "no column holds an identifier"),
        (["Email"], {"Mobile": "phone"}, "not in the file: 'Mobile'"),
        (["Email", "Id"], {"Id": "external:"}, "external ids need a type"),
    ],
)
def test_unusable_column_plans_are_refused(
    headers: list[str], mapping: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        importer.plan_columns(headers, mapping)


def test_dry_run_validates_and_counts_but_writes_nothing(
    workspace: NewWorkspace, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "people.csv", [HEADER, *GOOD_ROWS, GOOD_ROWS[0], "bad,nope,,,,,"])
    dry = _run(workspace, path, dry_run=True)
    assert _events(workspace) == []
    assert (dry["imported"], dry["duplicates"], dry["rows"]) == (3, 1, 5)
    assert dry["rejected"] == [
        {
            "row": 6,
            "column": "Email",
            "code": "bad_email",
            "reason": "not a valid email address: 'nope'",
            "value": "nope",
        }
    ]
    real = _run(workspace, path)
    assert {k: real[k] for k in ("imported", "duplicates")} == {"imported": 3, "duplicates": 1}
    assert _run(workspace, path, dry_run=True)["duplicates"] == 4


def test_imported_people_are_findable_after_the_pipeline_runs(
    api: TestClient, workspace: NewWorkspace, tmp_path: Path
) -> None:
    _run(workspace, _csv(tmp_path / "people.csv", [HEADER, *GOOD_ROWS]))
    worker.drain()
    found = api.get("/api/v1/people", params={"email": "li.lei@acme.cn"}).json()
    assert (found["total"], found["items"][0]["traits"]["company"]) == (1, "Acme")
    li_lei = {"user_id": "u1", "identifier_type": "crm_id", "identifier_value": "C-1"}
    for params in ({"email": "han.meimei@acme.cn"}, {"phone": "+8613900139000"}, li_lei):
        assert api.get("/api/v1/people", params=params).json()["total"] == 1, params


def test_cli_exit_codes(workspace: NewWorkspace, tmp_path: Path) -> None:
    good = _csv(tmp_path / "good.csv", [HEADER, *GOOD_ROWS])
    mixed = _csv(tmp_path / "mixed.csv", ["邮箱", "ok@acme.cn", "坏地址"])
    name = str(workspace.workspace_id)

    first = _cli(str(good), "--workspace", name)
    assert first.exit_code == 0 and "import finished" in first.output, first.output
    again = _cli(str(good), "--workspace", name, "--json")
    assert again.exit_code == 0
    assert json.loads(again.output) == {"imported": 0, "duplicates": 3, "rejected": [], "rows": 3}

    partial = _cli(str(mixed), "-w", name)
    assert partial.exit_code == 1
    assert "row 3, column 邮箱: not a valid email address: '坏地址'" in partial.output
    assert len(_events(workspace)) == 4

    assert _cli(str(good), "--workspace", "no-such-workspace").exit_code == 2
    assert _cli(str(tmp_path / "missing.csv"), "--workspace", name).exit_code == 2
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    assert _cli(str(tmp_path / "old.xls"), "--workspace", name).exit_code == 2
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    assert _cli(str(tmp_path / "broken.xlsx"), "--workspace", name).exit_code == 2


def test_cli_map_and_dry_run(workspace: NewWorkspace, tmp_path: Path) -> None:
    path = _csv(tmp_path / "crm.csv", ["Contact,Cell", "Li Lei,13800138000"])
    args = [str(path), "--workspace", str(workspace.workspace_id), "--map", "Contact=name"]
    refused = _cli(*args)
    assert (refused.exit_code, "no column holds an identifier" in refused.output) == (2, True)
    dry = _cli(*args, "--map", "Cell=phone", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["imported"] == 1
    assert _events(workspace) == []
    assert _cli(*args, "--map", "Cell=phone").exit_code == 0
    assert _events(workspace)[0].payload["traits"] == {"name": "Li Lei", "phone": "13800138000"}


def test_api_upload_imports_and_reports(
    api: TestClient, workspace: NewWorkspace, tmp_path: Path
) -> None:
    body = "\n".join(["手机,姓名,备注", "13800138000,张伟,老客户", "12,李四,"]).encode("gb18030")
    response = api.post(
        "/api/v1/imports/people",
        files={"file": ("名单.csv", body, "text/csv")},
        data={"mapping": json.dumps({"备注": None})},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "imported": 1,
        "duplicates": 0,
        "rejected": [
            {
                "row": 3,
                "column": "手机",
                "code": "bad_phone",
                "reason": "not a valid phone number: '12'",
                "value": "12",
            }
        ],
        "rows": 2,
    }
    assert _events(workspace)[0].payload["traits"] == {"phone": "13800138000", "name": "张伟"}


def test_a_large_upload_is_imported_by_a_job(
    api: TestClient, workspace: NewWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over LEADPOND_IMPORT_JOB_BYTES the upload answers 202 with a job at once; the job
    imports the kept file, reports as the synchronous import does, and drops the file."""
    monkeypatch.setenv("LEADPOND_IMPORT_JOB_BYTES", "64")
    get_settings.cache_clear()
    try:
        rows = ["Email,Name"] + [f"p{i}@acme.cn,客户{i}" for i in range(40)] + ["not-an-email,坏"]
        queued = api.post(
            "/api/v1/imports/people",
            files={"file": ("big.csv", "\n".join(rows).encode(), "text/csv")},
        )
        assert queued.status_code == 202, queued.text
        assert (queued.json()["kind"], queued.json()["state"]) == ("ingest.import_people", "queued")
        assert _events(workspace) == [], "nothing is imported inside the request"
        job = finish_job(api, queued)
        assert (job["result"]["imported"], job["result"]["rows"]) == (40, 41)
        assert job["result"]["rejected"][0]["row"] == 42
        assert len(_events(workspace)) == 40
        with read_only() as session:
            assert session.scalar(select(func.count()).select_from(ImportUpload)) == 0
        refused = api.post(
            "/api/v1/imports/people",
            files={"file": ("big.csv", "\n".join(rows).encode(), "text/csv")},
            data={"timezone": "Mars/Olympus"},
        )
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid_input")
    finally:
        monkeypatch.delenv("LEADPOND_IMPORT_JOB_BYTES")
        get_settings.cache_clear()


def test_api_dry_run_and_xlsx_upload(
    api: TestClient, workspace: NewWorkspace, tmp_path: Path
) -> None:
    upload = {
        "file": ("x.xlsx", _xlsx(tmp_path / "x.xlsx", [["Email"], ["x@acme.cn"]]).read_bytes())
    }
    dry = api.post("/api/v1/imports/people", files=upload, data={"dry_run": "true"})
    assert (dry.status_code, dry.json()["imported"]) == (200, 1)
    assert _events(workspace) == []
    assert api.post("/api/v1/imports/people", files=upload).json()["imported"] == 1


def test_api_refuses_unusable_uploads(
    api: TestClient, workspace: NewWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def post(name: str, body: bytes, **data: str) -> tuple[int, str]:
        response = api.post("/api/v1/imports/people", files={"file": (name, body)}, data=data)
        return response.status_code, response.json()["code"]

    assert post("people.pdf", b"%PDF") == (400, "invalid_input")
    assert post("people.xlsx", b"not a zip") == (400, "invalid_input")
    assert post("people.csv", b"Email\na@acme.cn", mapping="[1]") == (400, "invalid_input")
    assert post("people.csv", b"\xff\xfe\x00") == (400, "invalid_input")
    missing = api.post("/api/v1/imports/people", data={"dry_run": "1"})
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid_input")
    monkeypatch.setenv("LEADPOND_IMPORT_MAX_UPLOAD_BYTES", "100")
    get_settings.cache_clear()
    try:
        assert post("people.csv", b"Email\n" + b"a@acme.cn\n" * 20) == (413, "payload_too_large")
    finally:
        monkeypatch.delenv("LEADPOND_IMPORT_MAX_UPLOAD_BYTES")
        get_settings.cache_clear()
    stranger = {"Authorization": "Bearer nope"}
    assert api.post("/api/v1/imports/people", headers=stranger).status_code == 401
    assert _events(workspace) == []


def test_excel_unicode_text_is_tab_separated_utf16_and_timezone_is_an_option(
    workspace: NewWorkspace, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "unicode.txt",
        ["邮箱\t时间", "a@acme.cn\t2026-03-01 09:30", "b@acme.cn\t2026-03-01T09:30:00Z"],
        encoding="utf-16",
    )
    assert _run(workspace, path, timezone="UTC")["imported"] == 2
    assert [e.timestamp for e in _events(workspace)] == [datetime(2026, 3, 1, 9, 30)] * 2
    with pytest.raises(InvalidInput, match="unknown time zone"):
        _run(workspace, path, timezone="Mars/Olympus")
