"""Exports: the invitation list sales asks for, opening in Excel, opted-out people flagged."""

import csv
import io
import json
from pathlib import Path

import openpyxl
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadpond.cli import app as cli
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.segments.helpers import ago, create, person_id

COLUMNS = "name,company,title,owner,phone,email"


def _world(track: Tracker) -> None:
    track.identify(
        "u1",
        traits={
            "firstName": "伟",
            "lastName": "李",
            "company": "工商银行",
            "title": "CIO",
            "owner": "张销售",
            "phone": "+86 138 0013 8000",
            "email": "li@icbc.cn",
            "city": '=HYPERLINK("http://x")',
        },
        timestamp=ago(2),
    )
    track.identify(
        "u2",
        traits={"name": "Anna Wang", "email": "anna@icbc.cn", "unsubscribed": True},
        timestamp=ago(2),
    )
    track.identify("u3", traits={"name": "赵六", "do_not_contact": "true"}, timestamp=ago(2))


def test_csv_has_a_bom_the_chosen_columns_and_flags_opted_out_people(
    track: Tracker, api: TestClient
) -> None:
    _world(track)
    create(api, key="invite", kind="static", people=[person_id(api, u) for u in ("u1", "u2", "u3")])
    response = api.get(
        "/api/v1/segments/invite/export", params={"format": "csv", "columns": COLUMNS + ",city"}
    )
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["person_id", *COLUMNS.split(","), "city", "since", "suppressed"]
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["李伟"][2:7] == ["工商银行", "CIO", "张销售", "+86 138 0013 8000", "li@icbc.cn"]
    assert by_name["李伟"][7].startswith("'=")  # never run as a formula
    assert by_name["李伟"][-1] == ""
    assert by_name["Anna Wang"][-1] == "unsubscribed"
    assert by_name["赵六"][-1] == "do_not_contact"


def test_xlsx_opens_as_a_workbook_with_text_cells(track: Tracker, api: TestClient) -> None:
    _world(track)
    create(api, key="cio", condition={"trait": "title", "eq": "CIO"})
    response = api.get(
        "/api/v1/segments/cio/export", params={"format": "xlsx", "columns": "name,city"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["person_id", "name", "city", "since", "suppressed"]
    assert rows[1][1] == "李伟"
    assert rows[1][2] == '=HYPERLINK("http://x")'
    assert sheet.cell(row=2, column=3).data_type == "s"
    bad = api.get("/api/v1/segments/cio/export", params={"columns": "name;drop"})
    assert bad.status_code == 400


def test_cli_lists_shows_and_exports(
    track: Tracker, api: TestClient, workspace: NewWorkspace, tmp_path: Path
) -> None:
    _world(track)
    create(api, key="cio", name="首席信息官", condition={"trait": "title", "eq": "CIO"})
    runner = CliRunner()
    ws = str(workspace.workspace_id)
    listed = runner.invoke(cli, ["segment", "list", "--workspace", ws, "--json"])
    assert listed.exit_code == 0, listed.output
    assert {s["key"]: s["count"] for s in json.loads(listed.output)}["cio"] == 1
    shown = runner.invoke(cli, ["segment", "show", "cio", "--workspace", ws])
    assert shown.exit_code == 0 and json.loads(shown.output)["name"] == "首席信息官"
    target = tmp_path / "cio.xlsx"
    exported = runner.invoke(
        cli,
        ["segment", "export", "cio", "--workspace", ws, "-o", str(target), "--columns", COLUMNS],
    )
    assert exported.exit_code == 0, exported.output
    sheet = openpyxl.load_workbook(target).active
    assert sheet is not None and sheet.max_row == 2
    missing = runner.invoke(cli, ["segment", "show", "nope", "--workspace", ws])
    assert missing.exit_code != 0
