"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from leadpond.accounts.models import (
    Account,
    AccountKey,
    AccountMerge,
    AccountSettings,
    AccountSuggestion,
    PersonAccount,
)
from leadpond.acquisition.models import QrLogo, TrackingLink, WeChatQrCode, WeComContactWay
from leadpond.channels.models import (
    ChannelSettings,
    Message,
    MessageEvent,
    MessageTemplate,
    Subscription,
    SuppressedAddress,
)
from leadpond.content.models import ContentFacet, ContentItem, ContentTaxonomy
from leadpond.db.base import Base
from leadpond.engage.events_models import EventCheckin, EventRegistration, MarketingEvent
from leadpond.engage.models import Form, FormPostWindow, FormSubmission
from leadpond.identity.models import (
    DuplicateScan,
    Identifier,
    IdentitySettings,
    MergeSuggestion,
    PersonMerge,
    PersonSeparation,
)
from leadpond.ingest.models import Event, ImportUpload
from leadpond.jobs.models import Job
from leadpond.journeys.models import Enrollment, JourneySchedule, JourneyWinner, StepLog
from leadpond.profiles.models import (
    PERSON_ACTIVITY_INDEX,
    PERSON_FIRST_SEEN_INDEX,
    PERSON_LAST_SEEN_INDEX,
    PERSON_NAME_INDEX,
    PERSON_STAGE_INDEX,
    ChannelGrouping,
    Person,
)
from leadpond.reports.models import (
    CONTENT_VIEWS_INDEX,
    ContentTally,
    EventDay,
    PeopleDay,
    ScoreHolders,
    TagHolders,
)
from leadpond.rules.models import (
    PersonScore,
    PersonStage,
    PersonTag,
    PlaybookVersion,
    ScoreLedger,
    StageChange,
    StageEntryDay,
    StageFunnel,
    StageReachDay,
)
from leadpond.segments.models import (
    PersonaBuild,
    PersonaMember,
    Segment,
    SegmentAccountMember,
    SegmentChange,
    SegmentMember,
)
from leadpond.users.models import ConsoleSession, ConsoleUser, LoginThrottle, Membership
from leadpond.workspaces.models import ApiCredential, SigningKey, Workspace

__all__ = [
    "CONTENT_VIEWS_INDEX",
    "PERSON_ACTIVITY_INDEX",
    "PERSON_FIRST_SEEN_INDEX",
    "PERSON_LAST_SEEN_INDEX",
    "PERSON_NAME_INDEX",
    "PERSON_STAGE_INDEX",
    "Account",
    "AccountKey",
    "AccountMerge",
    "AccountSettings",
    "AccountSuggestion",
    "ApiCredential",
    "Base",
    "ChannelGrouping",
    "ChannelSettings",
    "ConsoleSession",
    "ConsoleUser",
    "ContentFacet",
    "ContentItem",
    "ContentTally",
    "ContentTaxonomy",
    "DuplicateScan",
    "Enrollment",
    "Event",
    "EventCheckin",
    "EventDay",
    "EventRegistration",
    "Form",
    "FormPostWindow",
    "FormSubmission",
    "Identifier",
    "IdentitySettings",
    "ImportUpload",
    "Job",
    "JourneySchedule",
    "JourneyWinner",
    "LoginThrottle",
    "MarketingEvent",
    "Membership",
    "MergeSuggestion",
    "Message",
    "MessageEvent",
    "MessageTemplate",
    "PeopleDay",
    "Person",
    "PersonAccount",
    "PersonMerge",
    "PersonScore",
    "PersonSeparation",
    "PersonStage",
    "PersonTag",
    "PersonaBuild",
    "PersonaMember",
    "PlaybookVersion",
    "QrLogo",
    "ScoreHolders",
    "ScoreLedger",
    "Segment",
    "SegmentAccountMember",
    "SegmentChange",
    "SegmentMember",
    "SigningKey",
    "StageChange",
    "StageEntryDay",
    "StageFunnel",
    "StageReachDay",
    "StepLog",
    "Subscription",
    "SuppressedAddress",
    "TagHolders",
    "TrackingLink",
    "WeChatQrCode",
    "WeComContactWay",
    "Workspace",
]
