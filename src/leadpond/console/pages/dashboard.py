"""The dashboard: stage funnel with conversion, new people per channel, top tags, scores."""

from datetime import date, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console import dashboard
from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.console.stages import stages
from leadpond.db.engine import read_only
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import LeadpondError

DEFAULT_DAYS = 365


def dashboard_page(request: Request) -> RedirectResponse | None:
    """The workspace at a glance for a date range."""
    v = visit(request)
    if isinstance(v, RedirectResponse):
        return v
    _ = v._
    header(v, _("Dashboard"))
    today = utcnow().date()
    state: dict[str, Any] = {"start": today - timedelta(days=DEFAULT_DAYS - 1), "end": today}
    with ui.row().classes("items-end gap-4"):
        start = (
            ui.input(_("From"), value=state["start"].isoformat()).props("type=date").mark("start")
        )
        end = ui.input(_("To"), value=today.isoformat()).props("type=date").mark("end")
        ui.button(_("Apply"), on_click=lambda: body.refresh()).mark("apply")

    @ui.refreshable
    def body() -> None:
        try:
            first, last = dashboard.check_range(
                date.fromisoformat(start.value), date.fromisoformat(end.value), today
            )
            with read_only() as session:
                labels = dict(stages(session, v.actor.workspace_id))
                built = dashboard.build(
                    session, v.actor.workspace_id, first, last, list(labels), None
                )
        except (LeadpondError, ValueError) as exc:
            if isinstance(exc, LeadpondError):
                notify_error(exc)
            else:
                ui.notify(_("Dates must be YYYY-MM-DD."), type="negative")
            return
        _render(v, built, labels)

    body()
    return None


def _render(v: Visit, built: dashboard.Dashboard, labels: dict[str, str]) -> None:
    _ = v._
    with ui.row().classes("gap-4"):
        for label, value in (
            (_("People"), built.people_total),
            (_("New people in range"), built.people_new),
            (_("Events in range"), built.events),
        ):
            with ui.card().classes("min-w-48"):
                ui.label(label).classes("text-gray-600")
                ui.label(f"{value:,}").classes("text-3xl font-bold").mark("kpi")
    with ui.grid(columns=2).classes("w-full gap-4"):
        with ui.card():
            ui.label(_("Stage funnel")).classes("text-lg")
            steps = built.funnel
            names = [labels.get(s.stage, s.stage) for s in steps]
            ui.echart(
                {
                    "tooltip": {"trigger": "axis"},
                    "xAxis": {"type": "value"},
                    "yAxis": {"type": "category", "data": names[::-1]},
                    "series": [
                        {
                            "type": "bar",
                            "name": _("Reached"),
                            "data": [s.reached for s in steps][::-1],
                            "label": {"show": True, "position": "right"},
                        }
                    ],
                }
            ).classes("h-72").mark("funnel")
            with ui.row().classes("gap-3 text-sm"):
                for name, step in zip(names, steps, strict=True):
                    rate = "–" if step.conversion is None else f"{step.conversion:.0%}"
                    ui.label(f"{name}: {rate}")
        with ui.card():
            ui.label(_("New people by channel")).classes("text-lg")
            days = sorted({d for series in built.new_people.values() for d in series})
            ui.echart(
                {
                    "tooltip": {"trigger": "axis"},
                    "legend": {"type": "scroll"},
                    "xAxis": {"type": "category", "data": days},
                    "yAxis": {"type": "value"},
                    "series": [
                        {
                            "type": "bar",
                            "stack": "new",
                            "name": channel,
                            "data": [series.get(d, 0) for d in days],
                        }
                        for channel, series in sorted(built.new_people.items())
                    ],
                }
            ).classes("h-72").mark("new-people")
        with ui.card():
            ui.label(_("Top tags")).classes("text-lg")
            ui.echart(
                {
                    "tooltip": {},
                    "xAxis": {"type": "value"},
                    "yAxis": {"type": "category", "data": [t for t, _n in built.top_tags][::-1]},
                    "series": [{"type": "bar", "data": [n for _t, n in built.top_tags][::-1]}],
                }
            ).classes("h-72").mark("top-tags")
        with ui.card():
            title = _("Score distribution")
            ui.label(f"{title}: {built.score_model or '–'}").classes("text-lg")
            ui.echart(
                {
                    "tooltip": {},
                    "xAxis": {"type": "category", "data": [b for b, _n in built.score_histogram]},
                    "yAxis": {"type": "value"},
                    "series": [{"type": "bar", "data": [n for _b, n in built.score_histogram]}],
                }
            ).classes("h-72").mark("scores")
