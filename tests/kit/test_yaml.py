"""The one YAML every part of leadpond reads and writes: YAML 1.2, lines kept, comments kept."""

from io import StringIO

import pytest

from leadpond.conditions.source import SourceError, load_located
from leadpond.console.playbook_forms import PlaybookDraft
from leadpond.kit import yaml


def test_only_true_and_false_are_booleans() -> None:
    text = "on: {event: Signed Up}\nyes: no\nflags: [on, off, y, n, True, FALSE]\n"
    assert yaml.load(text) == {
        "on": {"event": "Signed Up"},
        "yes": "no",
        "flags": ["on", "off", "y", "n", True, False],
    }


def test_numbers_are_read_as_yaml_1_2_writes_them() -> None:
    text = "zip: 010\noctal: 0o10\nhex: 0x1F\nat: 1:30\nbig: 1e3\nnothing: ~\n"
    assert yaml.load(text) == {
        "zip": 10,
        "octal": 8,
        "hex": 31,
        "at": "1:30",
        "big": 1000.0,
        "nothing": None,
    }


def test_every_node_knows_its_line() -> None:
    data, node = yaml.load_with_nodes("# about\nrules:\n  - id: a\n\n  - id: b\n")
    assert data == {"rules": [{"id": "a"}, {"id": "b"}]}
    assert node is not None
    [(key, rules)] = node.value
    assert (key.value, key.start_mark.line + 1) == ("rules", 2)
    assert [item.start_mark.line + 1 for item in rules.value] == [3, 5]


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(yaml.YamlSyntaxError) as caught:
        yaml.load("all:\n  - tag: vip\n  - tag: [unclosed\n")
    assert caught.value.line == 4
    assert caught.value.message.startswith("line 4: ")
    with pytest.raises(yaml.YamlSyntaxError, match=r"month must be in 1\.\.12"):
        yaml.load("since: 2024-13-45\n")


def test_the_located_loader_names_a_repeated_key_and_its_line() -> None:
    located = load_located("stages:\n  - key: lead\n    name: Lead\n")
    assert located.lines[("stages", 0, "name")] == 3
    with pytest.raises(SourceError) as caught:
        load_located("stages:\n  - key: lead\n    key: mql\n")
    body = caught.value.to_body()
    assert (body["line"], body["path"]) == (3, "stages[0].key")
    assert body["message"] == "line 3: key 'key' repeated in stages[0]"


def test_dumped_text_keeps_key_order_and_reads_back_the_same() -> None:
    data = {"on": "yes", "tag": "role:cio", "zip": "010", "any": [{"tag": "a:b"}, {"stage": "on"}]}
    text = yaml.dump(data, flow=None)
    assert text == ("on: yes\ntag: role:cio\nzip: '010'\nany:\n- {tag: 'a:b'}\n- {stage: on}\n")
    assert yaml.load(text) == data
    assert yaml.load(yaml.dump(data)) == data


def test_the_round_trip_keeps_comments_and_quotes() -> None:
    text = (
        "# the team's playbook\n"
        "tag_rules:\n"
        "  - id: 'pricing'  # quoted on purpose\n"
        '    on: {event: "Page Viewed"}\n'
        "\n"
        "    then: {tag: 'need:crm'}\n"
    )
    kept = yaml.round_trip()
    document = kept.load(text)
    document["tag_rules"][0]["enabled"] = "true"
    written = StringIO()
    kept.dump(document, written)
    assert written.getvalue() == text + "    enabled: 'true'\n"


def test_the_forms_write_new_scalars_as_the_loader_reads_them() -> None:
    draft = PlaybookDraft.from_yaml("version: 1\nstages: []\n")
    draft.document["note"] = "yes"
    draft.document["flag"] = "false"
    draft.document["at"] = "1:30"
    assert load_located(draft.to_yaml()).data == {
        "version": 1,
        "stages": [],
        "note": "yes",
        "flag": "false",
        "at": "1:30",
    }
