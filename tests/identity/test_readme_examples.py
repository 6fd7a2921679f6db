"""The README's examples work as typed: its example mobile is not one the default blocklist
drops (138 0013 8000 was, so the README's own lookup found nobody)."""

import re
from pathlib import Path

from leadpond.identity.config import IdentityConfig
from leadpond.identity.keys import _identifier

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_phone_is_kept_and_its_lookup_asks_for_it() -> None:
    text = README.read_text("utf-8")
    typed = re.search(r'"phone": "([^"]+)"', text)
    looked_up = re.search(r"people\?phone=(\d+)", text)
    assert typed and looked_up
    key = _identifier("phone", typed[1], IdentityConfig.from_settings(None))
    assert key is not None, f"the README's phone {typed[1]} is blocked or invalid"
    assert key[1] == "+86" + looked_up[1]
