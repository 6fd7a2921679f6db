"""Which parts of a rule read only the profile (evaluated once per person and run) and which
events can wake a rule that waits for them."""

from dataclasses import replace

from leadpond.conditions.ast import (
    AccountMatch,
    AccountPeople,
    AllOf,
    AnyOf,
    Behaviour,
    Condition,
    NotOf,
    Persona,
    Segment,
    Trait,
    walk,
)
from leadpond.conditions.evaluate import ConditionContext
from leadpond.rules.ruleset import Guard, StageRule

_STATIC = (Trait, AccountMatch, AccountPeople, AllOf, AnyOf, NotOf, Persona, Segment)


def _static(cond: Condition, context: ConditionContext) -> bool:
    return all(isinstance(node, _STATIC) for node in expand(cond, context))


def settle(guard: Guard, context: ConditionContext) -> Guard:
    """Mark a parsed guard static when it reads only the profile (not events, scores, tags)."""
    static = guard.condition is not None and _static(guard.condition, context)
    return replace(guard, static=static)


def split_stage_rule(rule: StageRule, context: ConditionContext) -> StageRule:
    """Separate a stage rule's profile-only alternatives from those that follow events."""
    cond = rule.condition
    if cond is None or rule.idle is not None:
        return rule
    if _static(cond, context):
        return replace(rule, static_part=cond)
    items = list(cond.items) if isinstance(cond, AnyOf) else [cond]
    static = [c for c in items if _static(c, context)]
    dynamic = [c for c in items if not _static(c, context)]
    dynamic_part = dynamic[0] if len(dynamic) == 1 else AnyOf(items=tuple(dynamic))
    return replace(
        rule,
        static_part=(static[0] if len(static) == 1 else AnyOf(items=tuple(static)))
        if static
        else None,
        dynamic_part=dynamic_part,
        wakes_on=wakes_on(dynamic_part),
    )


def expand(cond: Condition, context: ConditionContext) -> list[Condition]:
    """Every node of a condition, following persona and segment references into theirs."""
    found = []
    for node in walk(cond):
        found.append(node)
        if isinstance(node, Persona):
            found += expand(context.persona(node.key), context)
        elif isinstance(node, Segment):
            found += expand(context.segment(node.key), context)
    return found


def wakes_on(condition: Condition | None) -> frozenset[str] | None:
    """The event names the condition waits for, when it reads nothing but events (else None)."""
    if condition is None:
        return None
    nodes = walk(condition)
    if all(n.kind in ("event", "all", "any") for n in nodes):
        return frozenset(n.event for n in nodes if isinstance(n, Behaviour))
    return None
