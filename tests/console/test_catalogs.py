"""Every console text has a Chinese translation; English falls back to the message id."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from leadpond.console.i18n import catalog, translator
from leadpond.console.pages import imports, journeys, words
from leadpond.console.pages.segment_atoms import OP_LABELS
from leadpond.console.playbook_forms import SECTIONS
from leadpond.console.segment_builder import ATOM_LABELS, MEMBER_COLUMNS

PAGES = Path(__file__).resolve().parents[2] / "src" / "leadpond" / "console" / "pages"


def test_every_console_text_is_translated_to_chinese() -> None:
    ids = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(PAGES), method_map=[("**.py", "python")], keywords={"_": None}
        )
    }
    assert len(ids) > 40
    chinese = catalog("zh_CN")
    assert sorted(i for i in ids if i not in chinese) == []


def test_english_shows_the_ids_and_unknown_locales_fall_back_to_chinese() -> None:
    assert translator("en")("People") == "People"
    assert translator("zh_CN")("People") == "人员"
    assert translator("xx")("Log in") == "登录"


def test_every_playbook_form_label_is_translated_to_chinese() -> None:
    labels = {s.title for s in SECTIONS} | {f.label for s in SECTIONS for f in s.fields}
    labels |= {c.title for s in SECTIONS for c in s.children}
    labels |= {f.label for s in SECTIONS for c in s.children for f in c.fields}
    chinese = catalog("zh_CN")
    assert sorted(label for label in labels if label not in chinese) == []


def test_every_segment_builder_label_is_translated_to_chinese() -> None:
    labels = set(ATOM_LABELS.values()) | set(OP_LABELS.values())
    labels |= {label for columns in MEMBER_COLUMNS.values() for _field, label in columns}
    chinese = catalog("zh_CN")
    assert sorted(label for label in labels if label not in chinese) == []


def test_every_journey_word_is_translated_to_chinese() -> None:
    chinese = catalog("zh_CN")
    words = [
        *journeys.TRIGGER_NAMES.values(),
        *journeys.STEP_KINDS.values(),
        *journeys.STATE_NAMES.values(),
        *journeys.MESSAGE_WORDS.values(),
        *journeys.LOG_KINDS.values(),
        *journeys.NOT_SENT.values(),
    ]
    assert sorted(w for w in words if w not in chinese) == []


def test_every_profile_word_is_translated_to_chinese() -> None:
    chinese = catalog("zh_CN")
    listed = (
        words.EVENT_NAMES,
        words.CALL_NAMES,
        words.ID_TYPES,
        words.TRAIT_NAMES,
        words.SOURCE_NAMES,
        words.TAG_SOURCES,
        words.SCHEMA_ERRORS,
        words.PROPERTY_NAMES,
        words.USER_ROLES,
        words.ACCOUNT_ROLES,
        words.ACTORS,
        words.MESSAGE_CHANNELS,
        words.MESSAGE_WHAT,
        *words.PROPERTY_VALUES.values(),
    )
    said = {w for names in listed for w in names.values()}
    assert sorted(w for w in said if w not in chinese) == []


def test_every_import_word_is_translated_to_chinese() -> None:
    chinese = catalog("zh_CN")
    said = {*imports.TARGETS.values(), *imports.PROBLEMS.values()}
    assert sorted(w for w in said if w not in chinese) == []


def test_the_catalogues_are_well_formed_without_duplicates() -> None:
    """Merged catalogues stay valid: every entry has its msgstr, no msgid twice."""
    for path in (PAGES.parent / "locales").glob("*/LC_MESSAGES/console.po"):
        text = path.read_text()
        ids = re.findall(r'^msgid "(.*)"$', text, re.M)
        assert sorted({i for i in ids if ids.count(i) > 1}) == [], path
        with path.open("rb") as handle:
            read_po(handle, abort_invalid=True)
