"""The playbook file format (``version: 1``), as pydantic models that also publish a JSON Schema.

Conditions are kept as loaded data here and parsed by the loader, so that an error inside one
names its full path; the JSON Schema describes them with ``#/$defs/Condition``.
"""

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from leadpond.conditions.durations import parse_duration
from leadpond.kit.errors import RefusedValue
from leadpond.kit.names import Name

_CONDITION_MARK = "leadpond-condition"
ConditionData = Annotated[Any, WithJsonSchema({"$comment": _CONDITION_MARK})]
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
RuleId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Duration = Annotated[str, Field(pattern=r"^\s*\d+\s*[smhdw]\s*$", examples=["7d", "12h"])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


class StageDef(Strict):
    key: Key
    name: Name | None = None
    phase: str | None = None
    detour: bool = Field(default=False, description="Outside the funnel order (dormant …)")
    sticky: bool = Field(default=False, description="Only allow_regress rules leave it")


class TagCategory(Strict):
    key: Key
    name: Name | None = None
    description: Name | None = None
    values: dict[str, Name] = Field(
        default_factory=dict,
        description="Display names of the category's values (graph_database: 图数据库, or "
        "graph_database: {zh: 图数据库, en: Graph database})",
    )


class Trigger(Strict):
    """The events that run a rule: one name or several, with optional property tests."""

    event: str | list[str]
    where: dict[str, Any] = Field(default_factory=dict)


class TagActions(Strict):
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)


class TagRule(Strict):
    id: RuleId
    on: Trigger | None = None
    if_: ConditionData = Field(default=None, alias="if")
    then: TagActions


class Cap(Strict):
    points: float = Field(gt=0)
    per: Duration | None = None

    _check = field_validator("per")(_duration)


class ScoreRule(Strict):
    id: RuleId
    on: Trigger | None = None
    if_: ConditionData = Field(default=None, alias="if")
    points: float
    once: bool = False
    cap: Cap | None = None
    reason: str | None = None


class Threshold(Strict):
    at: float
    emit: str = Field(min_length=1, max_length=255)
    once_per: Duration | None = None

    _check = field_validator("once_per")(_duration)


class ScoreModel(Strict):
    key: Key
    name: Name | None = None
    half_life: Duration | None = None
    grades: dict[str, float] | None = Field(
        default=None, description="Grade letter -> lowest points, e.g. {A: 80, B: 60}"
    )
    thresholds: list[Threshold] = Field(default_factory=list)
    rules: list[ScoreRule] = Field(default_factory=list)

    _check = field_validator("half_life")(_duration)


class StageRule(Strict):
    id: RuleId | None = None
    to: Key
    if_: ConditionData = Field(default=None, alias="if")
    allow_regress: bool = False
    idle: Duration | None = Field(
        default=None,
        description="Move a person here once they have been this long without any event "
        "(e.g. dormant after 90d); `if`, when given, must also hold at that moment",
    )

    _check = field_validator("idle")(_duration)


class KeyEvent(Strict):
    id: RuleId
    emit: str = Field(min_length=1, max_length=255)
    on: Trigger | None = None
    if_: ConditionData = Field(alias="if")
    once_per: Duration | None = None

    _check = field_validator("once_per")(_duration)


class PersonaDef(Strict):
    key: Key
    name: Name | None = None
    description: Name | None = None
    if_: ConditionData = Field(alias="if")


class SegmentDef(Strict):
    """A dynamic segment has ``if``; a static one (a hand-kept list) has none; an account
    segment holds the accounts whose people match ``if`` (``account_match``: any/all/none)."""

    key: Key
    name: str | None = None
    kind: Literal["dynamic", "static"] = "dynamic"
    level: Literal["person", "account"] = "person"
    account_match: Literal["any", "all", "none"] | None = None
    if_: ConditionData | None = Field(default=None, alias="if")

    @model_validator(mode="after")
    def _shape(self) -> "SegmentDef":
        if self.kind == "dynamic" and self.if_ is None:
            raise ValueError("a dynamic segment needs `if`")
        if self.kind == "static" and self.if_ is not None:
            raise ValueError("a static segment has no `if`: its members are added by hand")
        if self.kind == "static" and self.level == "account":
            raise ValueError("static segments hold people; account segments are dynamic")
        if self.account_match is not None and self.level != "account":
            raise ValueError("`account_match` is for account segments (level: account)")
        return self


class ScoreTrigger(Strict):
    """A score model crossing one of its thresholds upward (the threshold's own event)."""

    model: Key
    gte: float


class ScheduleTrigger(Strict):
    """A cron schedule (in the journey's time zone) enrolling a segment's members as it fires."""

    cron: str = Field(min_length=1, max_length=100)
    segment: Key

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value) or len(value.split()) != 5:
            raise RefusedValue("not a five-field cron expression: {value!r}", value=value)
        return value


TRIGGER_KINDS = (
    "event",
    "tag",
    "tag_removed",
    "stage",
    "segment",
    "segment_exited",
    "score",
    "schedule",
    "form",
)


class JourneyTrigger(Strict):
    """What enrolls a person: exactly one of an event (with property tests), a tag added or
    removed, a stage entered, a segment entered or exited, a score threshold crossed, a
    schedule over a segment, or only the API."""

    event: str | list[str] | None = None
    where: dict[str, Any] = Field(default_factory=dict)
    tag: str | None = None
    tag_removed: str | None = None
    stage: Key | None = None
    segment: Key | None = None
    segment_exited: Key | None = None
    score: ScoreTrigger | None = None
    schedule: ScheduleTrigger | None = None
    form: Key | None = Field(
        default=None, description="A form's key: its Form Submitted event (properties.form_id)"
    )
    api: bool = False

    @model_validator(mode="after")
    def _one(self) -> "JourneyTrigger":
        given = [k for k in TRIGGER_KINDS if getattr(self, k) is not None]
        given += ["api"] if self.api else []
        if len(given) != 1:
            kinds = ", ".join((*TRIGGER_KINDS, "api: true"))
            raise RefusedValue("a trigger is exactly one of {kinds}", kinds=kinds)
        if self.where and self.event is None:
            raise ValueError("`where` tests the properties of an `event` trigger")
        return self


class JourneyLimits(Strict):
    """Entry limits: at most ``total`` enrollments ever, at most ``per_second`` entering a
    second (the rest enter in the following seconds, not dropped)."""

    per_second: int | None = Field(default=None, gt=0)
    total: int | None = Field(default=None, gt=0)


class WaitFor(Strict):
    """Wait until the person does an event (on to ``next``), or ``timeout`` passes (on to
    ``goto_timeout``, else ``next``)."""

    event: str = Field(min_length=1, max_length=255)
    where: dict[str, Any] = Field(default_factory=dict)
    timeout: Duration
    goto_timeout: Key | None = None

    _check = field_validator("timeout")(_duration)


class WaitUntil(Strict):
    """Wait until a condition holds (on to ``next``), re-checked when the person's profile
    changes and at ``timeout`` (then on to ``goto_timeout``, else ``next``)."""

    if_: ConditionData = Field(alias="if")
    timeout: Duration
    goto_timeout: Key | None = None

    _check = field_validator("timeout")(_duration)


class JourneyWebhook(Strict):
    """POST a JSON document (the webhook template's body, rendered for the person) to the
    workspace's webhook URL, through the outbox."""

    template: Key


class NotifyTarget(Strict):
    """Workspace users to notify: everyone with a role (or above it), or one user by email."""

    role: Literal["viewer", "sales", "marketer", "admin"] | None = None
    user: str | None = Field(default=None, min_length=3, max_length=320)

    @model_validator(mode="after")
    def _one(self) -> "NotifyTarget":
        if (self.role is None) == (self.user is None):
            raise ValueError("`to` names exactly one of `role`, `user`")
        return self


class JourneyNotify(Strict):
    """A note about the person to a workspace user: the person's owner (email to their
    ``owner_email`` trait, or a WeCom app message to ``owner_wecom_userid``), the users of a
    role or one user (email)."""

    channel: Literal["email", "wecom"] = "email"
    template: Key
    to: Literal["owner"] | NotifyTarget = "owner"

    @model_validator(mode="after")
    def _wecom_to_owner(self) -> "JourneyNotify":
        if self.channel == "wecom" and self.to != "owner":
            raise ValueError("a WeCom note goes to the owner (users have no WeCom userid here)")
        return self


class OwnerChoice(Strict):
    """One user a round robin assigns: their email (a workspace user), with the WeCom userid
    notes to them go to."""

    user: str = Field(min_length=3, max_length=320)
    wecom_userid: str | None = Field(default=None, min_length=1, max_length=64)


class AssignOwner(Strict):
    """Give the person an owner: the next user of a round robin, or their account's owner."""

    round_robin: list[str | OwnerChoice] | None = None
    from_: Literal["account"] | None = Field(default=None, alias="from")
    keep_existing: bool = Field(default=True, description="People with an owner keep theirs")

    @model_validator(mode="after")
    def _one(self) -> "AssignOwner":
        if (self.round_robin is None) == (self.from_ is None):
            raise ValueError("assign_owner takes exactly one of `round_robin`, `from: account`")
        if self.round_robin is not None and not self.round_robin:
            raise ValueError("a round robin names at least one user")
        return self


class JourneyEnroll(Strict):
    """Enroll the person in another journey of the playbook (its re-entry rule applies)."""

    journey: Key


class JourneySend(Strict):
    """A message to the person, or (``to: owner``, WeCom only) a note to the person's owner:
    the WeCom userid in their trait ``owner_wecom_userid``, else ``on_duty``."""

    channel: Literal["email", "sms", "wecom", "wechat", "webhook"]
    template: Key
    to: Literal["person", "owner"] = "person"
    on_duty: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The WeCom userid noted when the person has no owner (to: owner)",
    )

    @model_validator(mode="after")
    def _owner_on_wecom(self) -> "JourneySend":
        if self.to == "owner" and self.channel != "wecom":
            raise ValueError("`to: owner` sends a WeCom note: the channel is wecom")
        if self.on_duty is not None and self.to != "owner":
            raise ValueError("`on_duty` is for `to: owner`")
        return self


class JourneySendContent(Strict):
    """Recommend-and-send: each person's next best content items (their stage and interests,
    not seen, not sent before by a journey), narrowed by ``stage``/``type``/``topic``, sent
    with ``template`` — the items and a tracked short link each as the template's variables.
    Nothing left to recommend: on to ``fallback`` (else ``next``), nothing sent."""

    channel: Literal["email", "sms", "wecom", "wechat"]
    template: Key
    limit: int = Field(default=1, ge=1, le=5, description="Items per message")
    stage: Key | None = None
    type: str | None = Field(default=None, min_length=1, max_length=64)
    topic: str | None = Field(default=None, min_length=1, max_length=128)
    fallback: Key | None = Field(
        default=None, description="The step people go to when nothing is left to recommend"
    )


class BranchArm(Strict):
    """One arm of a branch: taken when ``if`` holds (the first arm that holds wins); an arm
    without ``if`` is the fallback and comes last."""

    if_: ConditionData = Field(default=None, alias="if")
    goto: Key


class SplitArm(Strict):
    """One variant of a random split: a share of the people, stable per person."""

    variant: Key
    weight: float = Field(gt=0)
    goto: Key


class SendWinner(Strict):
    """Send the rest of an A/B test the winning variant's message (scenario S6): the variant
    of ``split`` with the best rate ``by`` clicks, opens or the journey's goal, decided
    ``after`` this long from the split's first person — or earlier by hand (API)."""

    split: Key
    by: Literal["clicks", "opens", "goal"] = "clicks"
    after: Duration = "24h"

    _check = field_validator("after")(_duration)


class JourneyStep(Strict):
    """One step: exactly one of send, send_winner, send_content, wait, wait_for, wait_until,
    branch, split, add_tags/remove_tags, add_points, set_stage, set_trait, exit. ``next`` jumps
    to a later step (or ``exit``)."""

    id: Key
    send: JourneySend | None = None
    send_winner: SendWinner | None = None
    send_content: JourneySendContent | None = None
    wait: Duration | None = None
    wait_for: WaitFor | None = None
    wait_until: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | WaitUntil | None = (
        Field(
            default=None,
            description="A local time of day (HH:MM) in the journey's time zone, or a condition",
        )
    )
    branch: list[BranchArm] | None = None
    split: list[SplitArm] | None = None
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None
    add_points: dict[Key, float] | None = Field(default=None, description="score model -> points")
    set_stage: Key | None = None
    set_trait: dict[str, Any] | None = Field(default=None, description="trait -> value")
    webhook: JourneyWebhook | None = None
    notify: JourneyNotify | None = None
    assign_owner: AssignOwner | None = None
    enroll: JourneyEnroll | None = None
    exit: bool = False
    next: Key | None = None
    name: Name | None = Field(
        default=None, description="What the console and the report call the step (zh/en)"
    )

    _check = field_validator("wait")(_duration)

    @model_validator(mode="after")
    def _one(self) -> "JourneyStep":
        kinds = [k for k in STEP_KINDS if getattr(self, k) not in (None, False)]
        if "add_tags" in kinds and "remove_tags" in kinds:
            kinds.remove("remove_tags")
        if len(kinds) != 1:
            raise RefusedValue("a step is exactly one of {kinds}", kinds=", ".join(STEP_KINDS))
        if (self.branch is not None or self.split is not None) and self.next is not None:
            raise ValueError("a branch or split goes where its arms say: no `next`")
        if self.branch is not None and not self.branch:
            raise ValueError("a branch needs at least one arm")
        if self.split is not None and len(self.split) < 2:
            raise ValueError("a split needs at least two arms")
        return self


STEP_KINDS = (
    "send",
    "send_winner",
    "send_content",
    "wait",
    "wait_for",
    "wait_until",
    "branch",
    "split",
    "add_tags",
    "remove_tags",
    "add_points",
    "set_stage",
    "set_trait",
    "webhook",
    "notify",
    "assign_owner",
    "enroll",
    "exit",
)


class JourneyDef(Strict):
    """A journey: who enters (trigger, ``if``, re-entry, staleness), what happens (steps, in
    order, jumping with ``goto``/``next``) and when someone leaves early (``goal``)."""

    key: Key
    name: str | None = None
    trigger: JourneyTrigger
    if_: ConditionData = Field(default=None, alias="if")
    reentry: str = Field(
        default="never",
        pattern=r"^(never|after_exit|\s*\d+\s*[smhdw]\s*)$",
        description="never | after_exit | a duration (after N days: 30d)",
    )
    max_age: Duration = Field(
        default="1d", description="Triggers older than this (imports, replays) never enroll"
    )
    time_zone: str = Field(default="Asia/Shanghai", description="For wait_until")
    goal: ConditionData = None
    exit_when: ConditionData = Field(
        default=None, description="Leave (exited) as soon as this holds, re-checked on changes"
    )
    limits: JourneyLimits | None = None
    steps: list[JourneyStep] = Field(min_length=1)

    _check = field_validator("max_age")(_duration)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise RefusedValue("unknown time zone {value!r}", value=value) from None
        return value


class Playbook(Strict):
    """One workspace's marketing logic."""

    version: Literal[1]
    stages: list[StageDef] = Field(default_factory=list)
    tag_categories: list[TagCategory] = Field(default_factory=list)
    tag_rules: list[TagRule] = Field(default_factory=list)
    score_models: list[ScoreModel] = Field(default_factory=list)
    stage_rules: list[StageRule] = Field(default_factory=list)
    key_events: list[KeyEvent] = Field(default_factory=list)
    personas: list[PersonaDef] = Field(default_factory=list)
    segments: list[SegmentDef] = Field(default_factory=list)
    journeys: list[JourneyDef] = Field(default_factory=list)


_SCALAR: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_TESTS: dict[str, Any] = {
    "oneOf": [
        _SCALAR,
        {"type": "array", "items": _SCALAR},
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **{op: _SCALAR for op in ("eq", "ne", "gt", "gte", "lt", "lte")},
                **{op: {"type": "string"} for op in ("contains", "starts_with", "matches")},
                "in": {"type": "array", "items": _SCALAR},
                "not_in": {"type": "array", "items": _SCALAR},
                "exists": {"type": "boolean"},
            },
        },
    ]
}
_FIELDS: dict[str, Any] = {"type": "object", "additionalProperties": {"$ref": "#/$defs/Tests"}}
_REF: dict[str, Any] = {"$ref": "#/$defs/Condition"}


def _atom(required: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [required],
        "properties": properties,
        "additionalProperties": False,
    }


CONDITION_SCHEMA: dict[str, Any] = {
    "description": "The leadpond condition language (see docs/playbooks.md)",
    "anyOf": [
        _atom("all", all={"type": "array", "items": _REF}),
        _atom("any", any={"type": "array", "items": _REF}),
        _atom("not", **{"not": _REF}),
        _atom(
            "event",
            event={"type": "string"},
            where=_FIELDS,
            count={"$ref": "#/$defs/Tests"},
            within={"type": "string", "pattern": r"^\s*\d+\s*[smhdw]\s*$"},
        ),
        {
            "type": "object",
            "required": ["trait"],
            "properties": {"trait": {"type": "string"}},
            "additionalProperties": True,
        },
        _atom("tag", tag={"type": "string"}),
        _atom("score", score={"type": "object", "additionalProperties": {"$ref": "#/$defs/Tests"}}),
        _atom("stage", stage={"$ref": "#/$defs/Tests"}),
        _atom("persona", persona={"type": "string"}),
        _atom("segment", segment={"type": "string"}),
        _atom("account", account=_FIELDS),
        _atom("account_people", account_people=_atom("any", any=_REF)),
    ],
}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the playbook file, for editors (YAML language servers and the like)."""
    schema = Playbook.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "leadpond playbook"
    schema = dict(_link_conditions(schema))
    schema.setdefault("$defs", {}).update({"Condition": CONDITION_SCHEMA, "Tests": _TESTS})
    return schema


def _link_conditions(node: Any) -> Any:
    """Point every condition-valued field at ``#/$defs/Condition``."""
    if isinstance(node, dict):
        if node.get("$comment") == _CONDITION_MARK:
            return {key: value for key, value in node.items() if key != "$comment"} | _REF
        return {key: _link_conditions(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_link_conditions(item) for item in node]
    return node
