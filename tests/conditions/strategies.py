"""Hypothesis strategies: random profiles and random conditions in the YAML shape."""

from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

NOW = datetime(2030, 6, 1, 12, 0, 0)
STAGES = ("awareness", "visit", "registered", "engaged")
TAGS = ("need:crm", "role:cio", "vip")
FIELDS = ("a", "b", "c.d")
EVENT_NAMES = ("Page Viewed", "Signed Up", "Demo Requested")
INDUSTRIES = ("banking", "energy", "银行")

strings = st.sampled_from(
    ["", "a", "ab", "b", "ba", "A", "首", "首a", "/pricing", "/pricing/x", "a\nb", "a1", "Éb"]
)
numbers = st.sampled_from([-2, 0, 1, 3, 0.5, 1.0, 2.5])
scalars = st.one_of(strings, numbers, st.booleans())
json_values = st.one_of(scalars, st.none(), st.just([1, "a"]), st.just({"x": 1}))
# Beside plain ones, the constructs RE2 and PostgreSQL read differently unless spelled out
# (conditions.regex.postgres_pattern): ., \d, \w, \s, \b, flags.
patterns = st.sampled_from(
    [
        *("a", "^a", "b$", "a|b", "首", "^$", "a.*b", "^/pricing"),
        *("(?i)a", "(?i)éB", "a.b", "(?s)a.b", r"\bb", r"\Bb", r"\w$", r"^\W"),
        *(r"\d", r"[\d\s]", r"^\S+$", "a{1,2}b", "[^]a]"),
    ]
)
offsets = st.sampled_from([-3600, 60, 3600, 86400 * 2, 86400 * 6, 86400 * 8, 86400 * 40])


def document(fields: tuple[str, ...] = FIELDS) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object with some of the fields (dotted = nested)."""

    def build(values: dict[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for name, value in values.items():
            head, _, tail = name.partition(".")
            if tail:
                inner = doc.setdefault(head, {})
                if isinstance(inner, dict):
                    inner[tail] = value
            else:
                doc.setdefault(head, value)
        return doc

    return st.dictionaries(st.sampled_from(fields), json_values, min_size=1, max_size=3).map(build)


def test_for(numeric_only: bool = False) -> st.SearchStrategy[Any]:
    """An operator mapping (or the scalar/list shorthands)."""
    if numeric_only:
        return st.builds(
            lambda op, n: {op: n}, st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), numbers
        )
    return st.one_of(
        scalars,
        st.lists(scalars, min_size=1, max_size=3),
        st.builds(
            lambda op, v: {op: v},
            st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
            st.one_of(strings, numbers),
        ),
        st.builds(lambda op, v: {op: v}, st.sampled_from(["eq", "ne"]), st.booleans()),
        st.builds(
            lambda op, v: {op: v},
            st.sampled_from(["in", "not_in"]),
            st.lists(scalars, min_size=1, max_size=3),
        ),
        st.builds(lambda op, v: {op: v}, st.sampled_from(["contains", "starts_with"]), strings),
        st.builds(lambda v: {"matches": v}, patterns),
        st.builds(lambda v: {"exists": v}, st.booleans()),
    )


def _trait() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda f, t: {
            "trait": f,
            **(t if isinstance(t, dict) else {"eq": t} if not isinstance(t, list) else {"in": t}),
        },
        st.sampled_from(FIELDS),
        test_for(),
    )


GRADES = (("A", 3.0), ("B", 1.0), ("C", 0.5))  # else F; floors fall on generated scores
LETTERS = ("A", "B", "C", "F")


def _grade_test() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(LETTERS),
        st.lists(st.sampled_from(LETTERS), min_size=1, max_size=3),
        st.builds(
            lambda op, v: {op: v},
            st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
            st.sampled_from(LETTERS),
        ),
        st.builds(lambda v: {"not_in": v}, st.lists(st.sampled_from(LETTERS), min_size=1)),
    )


def _profile_atoms() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        _trait(),
        st.builds(lambda t: {"tag": t}, st.sampled_from(TAGS)),
        st.builds(lambda t: {"score": {"engagement": t}}, test_for(numeric_only=True)),
        st.builds(lambda t: {"grade": {"engagement": t}}, _grade_test()),
        st.builds(
            lambda op, s: {"stage": {op: s}},
            st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
            st.sampled_from((*STAGES, "dormant")),
        ),
        st.builds(
            lambda s: {"stage": {"in": s}},
            st.lists(st.sampled_from(STAGES), min_size=1, max_size=2),
        ),
        st.builds(lambda b: {"stage": {"exists": b}}, st.booleans()),
    )


def _behaviour() -> st.SearchStrategy[dict[str, Any]]:
    def build(name: str, where: dict[str, Any], count: Any, within: str | None) -> dict[str, Any]:
        atom: dict[str, Any] = {"event": name}
        if where:
            atom["where"] = where
        if count is not None:
            atom["count"] = count
        if within:
            atom["within"] = within
        return atom

    return st.builds(
        build,
        st.sampled_from(EVENT_NAMES),
        st.dictionaries(st.sampled_from(("path", "n", "c.d")), test_for(), max_size=2),
        st.one_of(
            st.none(),
            test_for(numeric_only=True).map(lambda t: {k: abs(int(v)) for k, v in t.items()}),
        ),
        st.sampled_from([None, "1h", "7d", "30d"]),
    )


def _account() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda t: {"account": {"industry": t}}, test_for()),
        st.builds(
            lambda f, t: {"account": {f: t}}, st.sampled_from(("tier", "size.n")), test_for()
        ),
    )


def _colleagues() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda c: {"account_people": {"any": c}}, _profile_atoms())


def conditions() -> st.SearchStrategy[dict[str, Any]]:
    """Any condition of the language, nested up to a few levels."""
    leaves = st.one_of(
        _trait(),
        _trait(),
        _profile_atoms(),
        _behaviour(),
        _behaviour(),
        _account(),
        _colleagues(),
        st.just({"persona": "p1"}),
        st.just({"segment": "s1"}),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda item: {"not": item}, inner),
        ),
        max_leaves=8,
    )


def events() -> st.SearchStrategy[list[dict[str, Any]]]:
    event = st.builds(
        lambda kind, name, props, offset: {
            "type": kind,
            "event": name if kind == "track" else "Pricing",
            "properties": props,
            "timestamp": NOW - timedelta(seconds=offset),
        },
        st.sampled_from(["track", "track", "page"]),
        st.sampled_from(EVENT_NAMES),
        document(("path", "n", "c.d")),
        offsets,
    )
    return st.lists(event, max_size=6)


def people() -> st.SearchStrategy[list[dict[str, Any]]]:
    person = st.fixed_dictionaries(
        {
            "traits": document(),
            "tags": st.sets(st.sampled_from(TAGS)),
            "score": st.one_of(st.none(), numbers),
            # How long ago the points were last changed: the half-life decays them since.
            "score_age_days": st.sampled_from((0, 1, 15, 30, 90)),
            "stage": st.one_of(st.none(), st.sampled_from((*STAGES, "dormant"))),
            "events": events(),
            "account": st.one_of(st.none(), st.integers(0, 1)),
        }
    )
    return st.lists(person, min_size=2, max_size=5)


def accounts() -> st.SearchStrategy[list[dict[str, Any]]]:
    account = st.fixed_dictionaries(
        {
            "industry": st.one_of(st.none(), st.sampled_from(INDUSTRIES)),
            "traits": document(("tier", "size.n")),
        }
    )
    return st.lists(account, min_size=2, max_size=2)
