"""Screenshots of the console's main pages in Chinese, on a desktop (1400×900) and a phone
(390×844), for docs/console.md: the demo world served as the e2e tests serve it (SQLite, Debian's
chromium through Playwright), then every PNG quantised by pngquant when it is installed.

    make screenshots        # writes docs/img/console/<page>-desktop.png and <page>-phone.png
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, demo_server

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "console"
VIEWPORTS = {"desktop": (1400, 900), "phone": (390, 844)}
IMPORT_FILE = (
    "姓名,手机号,公司,职位\n李雷,13912345678,星环科技,CIO\n韩梅梅,13812345679,云杉网络,数据架构师\n"
)


def first_link(page: Page, server: LiveServer, listing: str, prefix: str) -> str:
    """The href of the first link under ``prefix`` on the list page ``listing``."""
    page.goto(f"{server.base_url}/console{listing}")
    page.wait_for_load_state("networkidle")
    link = page.locator(f"a[href^='/console{prefix}']").first
    href = link.get_attribute("href")
    if href is None:
        raise RuntimeError(f"no link to {prefix} on {listing}")
    return href.removeprefix("/console")


def busiest_person(page: Page, server: LiveServer) -> str:
    key = {"Authorization": f"Bearer {server.api_key}"}
    found = page.request.get(
        f"{server.base_url}/api/v1/search/people?known=true&sort=-events&limit=1", headers=key
    ).json()
    return f"/people/{found['items'][0]['id']}"


def upload_a_file(page: Page, folder: Path) -> None:
    file = folder / "展会名单.csv"
    file.write_text(IMPORT_FILE, encoding="utf-8")
    page.locator(".lp-import-upload input[type=file]").set_input_files(file)
    page.get_by_text("展会名单.csv：").wait_for()


def pages(page: Page, server: LiveServer) -> list[tuple[str, str]]:
    """(name, console path) of every page shot, the detail pages found through their lists."""
    return [
        ("dashboard", "/"),
        ("directory", "/people"),
        ("person", busiest_person(page, server)),
        ("accounts", "/accounts"),
        ("account", first_link(page, server, "/accounts", "/accounts/")),
        ("segments", "/segments"),
        ("segment", first_link(page, server, "/segments", "/segments/")),
        ("journeys", "/journeys"),
        ("journey-builder", first_link(page, server, "/journeys", "/journeys/") + "/edit"),
        ("content", "/content"),
        ("forms", "/forms"),
        ("events", "/events"),
        ("settings", "/settings"),
        ("duplicates", "/duplicates"),
        ("import", "/import"),
        ("playbook", "/playbook"),
    ]


def shoot(out: Path, folder: Path) -> list[Path]:
    """Serve the demo, log in, shoot every page at both sizes; the files written."""
    written: list[Path] = []
    actions: dict[str, Callable[[Page], None]] = {"import": lambda p: upload_a_file(p, folder)}
    with (
        demo_server(f"sqlite:///{folder / 'leadpond.db'}", folder) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for size, (width, height) in VIEWPORTS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="zh-CN"
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{server.base_url}/console/login")
            page.fill("input[name=email]", server.email)
            page.fill("input[name=password]", server.password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.base_url}/console/")
            for name, path in pages(page, server):
                page.goto(f"{server.base_url}/console{path}")
                page.wait_for_load_state("networkidle")
                if name in actions:
                    actions[name](page)
                page.wait_for_timeout(800)  # charts finish their animation
                target = out / f"{name}-{size}.png"
                page.screenshot(path=str(target))
                written.append(target)
            context.close()
        browser.close()
    return written


def shrink(files: list[Path]) -> None:
    """Quantise to 256 colours with pngquant (when installed); text stays sharp."""
    if shutil.which("pngquant") is None:
        print("pngquant is not installed: PNGs kept as chromium wrote them", file=sys.stderr)
        return
    subprocess.run(
        ["pngquant", "--force", "--skip-if-larger", "--ext", ".png", "--quality", "60-90"]
        + [str(f) for f in files],
        check=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="leadpond-shots-") as folder:
        written = shoot(args.out, Path(folder))
    shrink(written)
    total = sum(f.stat().st_size for f in written)
    print(f"{len(written)} screenshots, {total / 1e6:.1f} MB, in {args.out}")


if __name__ == "__main__":
    main()
