"""Profile-only conditions answered once per distinct set of trait values, not once per person.

A condition made only of trait atoms (and ``all``/``any``/``not``/personas over them) is a
function of the values at its trait paths. Many people share a title, an industry or a lead
status, so one engine run (a batch or a replay) evaluates each distinct combination once.
"""

from typing import Any

from leadpond.conditions.ast import AllOf, AnyOf, Condition, NotOf, Persona, Trait
from leadpond.conditions.evaluate import ConditionContext, ProfileSnapshot, matches, resolve

# Bounds the walk of a condition (personas are checked for cycles when a playbook compiles).
_MAX_NODES = 1000
Paths = tuple[tuple[str, ...], ...]


def trait_paths(condition: Condition, context: ConditionContext) -> Paths | None:
    """The trait paths the condition reads, or None when it reads anything else."""
    paths: list[tuple[str, ...]] = []
    pending: list[Condition] = [condition]
    seen = 0
    while pending:
        seen += 1
        if seen > _MAX_NODES:
            return None
        node = pending.pop()
        if isinstance(node, AllOf | AnyOf):
            pending.extend(node.items)
        elif isinstance(node, NotOf):
            pending.append(node.item)
        elif isinstance(node, Trait):
            paths.append(node.field.path)
        elif isinstance(node, Persona) and node.key in context.personas:
            pending.append(context.personas[node.key])
        else:
            return None
    return tuple(paths)


class ProfileAnswers:
    """Answers of trait-only conditions by the trait values they read, for one engine run."""

    def __init__(self, context: ConditionContext) -> None:
        self.context = context
        self._paths: dict[int, tuple[Condition, Paths | None]] = {}
        self._answers: dict[tuple[int, tuple[Any, ...]], bool] = {}

    def matches(self, condition: Condition, snap: ProfileSnapshot) -> bool:
        """``matches(condition, snap)``, reused for people with the same values."""
        known = self._paths.get(id(condition))
        if known is None or known[0] is not condition:
            known = self._paths[id(condition)] = (condition, trait_paths(condition, self.context))
        paths = known[1]
        if paths is None:
            return matches(condition, snap)
        # The type is part of the key: 1, 1.0 and true are equal in Python, not in conditions.
        values = tuple((type(v), v) for v in (resolve(snap.traits, p) for p in paths))
        key = (id(condition), values)
        try:
            found = self._answers.get(key)
        except TypeError:  # a list or object value: not hashable, evaluate it directly
            return matches(condition, snap)
        if found is None:
            found = self._answers[key] = matches(condition, snap)
        return found
