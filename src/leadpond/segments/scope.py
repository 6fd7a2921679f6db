"""Where every read of a workspace's segments starts (built on ``kit.scope``)."""

import uuid

from sqlalchemy import Select

from leadpond.kit.scope import in_workspace
from leadpond.segments.models import Segment


def segments(workspace_id: uuid.UUID) -> Select[Segment]:
    """Every segment of the workspace: the start of every read of segments."""
    return in_workspace(Segment, workspace_id)
