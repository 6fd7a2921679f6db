"""The pipeline stage that records what a form's submitter agreed to.

A form post is accepted before anyone knows which person it is (the pipeline resolves that),
so ``Form Submitted`` carries the consents ticked, each with the exact wording shown; once the
batch knows the person, this stage writes them to the consent table (``channels.consent``)
with the form as source, and links the submission to its person.
"""

from typing import Any

from sqlalchemy import update

from leadpond.channels.consent import subscribe
from leadpond.engage.forms_submit import FORMS_SOURCE, SUBMITTED
from leadpond.engage.models import FormSubmission
from leadpond.flow.batch import Batch, time_order


def record_consents(batch: Batch) -> None:
    """Pipeline stage: consents and the person of each form submission in the batch."""
    for event in sorted(batch.events, key=time_order):
        if event.source != FORMS_SOURCE or event.event != SUBMITTED or event.person_id is None:
            continue
        properties: Any = event.payload.get("properties")
        if not isinstance(properties, dict):
            continue
        submission_id = properties.get("submission_id")
        if isinstance(submission_id, int):
            batch.session.execute(
                update(FormSubmission)
                .where(
                    FormSubmission.id == submission_id,
                    FormSubmission.workspace_id == event.workspace_id,
                )
                .values(person_id=event.person_id)
            )
        consents = properties.get("consents")
        for consent in consents if isinstance(consents, list) else []:
            if not isinstance(consent, dict) or not isinstance(consent.get("channel"), str):
                continue
            detail = {
                "form_id": properties.get("form_id"),
                "submission_id": submission_id,
                "wording": consent.get("wording"),
                "lang": consent.get("lang"),
                "event_id": event.id,
            }
            source = f"form:{properties.get('form_id')}"
            subscribe(
                batch.session,
                event.workspace_id,
                event.person_id,
                consent["channel"],
                source,
                detail,
            )
