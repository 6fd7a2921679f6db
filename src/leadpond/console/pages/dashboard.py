"""The dashboard: stage funnel with conversion, new people per channel, top tags, scores."""

from datetime import date, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.console.pages.onboarding import onboarding_card
from leadpond.console.pages.pipeline_panel import pipeline_panel
from leadpond.db.engine import read_only
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import LeadpondError
from leadpond.reports import dashboard
from leadpond.rules.vocabulary import Labels, labels

DEFAULT_DAYS = 365


def dashboard_page(request: Request) -> RedirectResponse | None:
    """The workspace at a glance for a date range."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _board(v, session)
    return None


def _board(v: Visit, session: Session) -> None:
    """The page, drawn with the numbers read in the page's transaction."""
    _ = v._
    header(v, _("Dashboard"), session)
    onboarding_card(v, session)
    pipeline_panel(v, session)
    today = utcnow().date()
    first_day = today - timedelta(days=DEFAULT_DAYS - 1)
    with ui.row().classes("items-end gap-4"):
        start = ui.input(_("From"), value=first_day.isoformat()).props("type=date").mark("start")
        end = ui.input(_("To"), value=today.isoformat()).props("type=date").mark("end")
        ui.button(_("Apply"), on_click=lambda: apply()).mark("apply")
    names = labels(session, v.actor.workspace_id, v.actor.locale)

    def numbers(reading: Session) -> dashboard.Dashboard | None:
        """The range's numbers, or None (and a message) when the range is not one."""
        try:
            first, last = dashboard.check_range(
                date.fromisoformat(start.value), date.fromisoformat(end.value), today
            )
            return dashboard.build(reading, v.actor.workspace_id, first, last)
        except LeadpondError as exc:
            notify_error(exc)
        except ValueError:
            ui.notify(_("Dates must be YYYY-MM-DD."), type="negative")
        return None

    @ui.refreshable
    def body(built: dashboard.Dashboard | None) -> None:
        if built is not None:
            _render(v, built, names)

    def apply() -> None:
        with read_only() as reading:
            built = numbers(reading)
        body.refresh(built)

    body(numbers(session))


def _render(v: Visit, built: dashboard.Dashboard, names: Labels) -> None:
    _kpis(v, built)
    with ui.element("div").classes("grid grid-cols-1 md:grid-cols-2 w-full gap-4"):
        with ui.card():
            _funnel(v, built, names.stages)
        with ui.card():
            _new_people(v, built)
        with ui.card():
            _top_tags(v, built, names)
        with ui.card():
            _score_chart(v, built, names.scores)


def _kpis(v: Visit, built: dashboard.Dashboard) -> None:
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


def _funnel(v: Visit, built: dashboard.Dashboard, labels: dict[str, str]) -> None:
    """The funnel's line as bars (reached, here now), conversions, then the detours."""
    _ = v._
    ui.label(_("Stage funnel")).classes("text-lg")
    line = [s for s in built.funnel if not s.detour]
    names = [labels.get(s.stage, s.stage) for s in line]
    ui.echart(
        {
            "tooltip": {"trigger": "axis"},
            "legend": {},
            "xAxis": {"type": "value"},
            "yAxis": {"type": "category", "data": names[::-1], "axisLabel": {"interval": 0}},
            "series": [
                {
                    "type": "bar",
                    "name": _("Reached (this stage or later)"),
                    "data": [s.reached for s in line][::-1],
                    "label": {"show": True, "position": "right"},
                },
                {"type": "bar", "name": _("Here now"), "data": [s.current for s in line][::-1]},
            ],
        }
    ).classes("h-72").mark("funnel")
    with ui.row().classes("gap-3 text-sm"):
        for name, step in zip(names, line, strict=True):
            rate = "–" if step.conversion is None else f"{step.conversion:.0%}"
            ui.label(f"{name}: {rate}").mark("conversion")
    with ui.row().classes("gap-3 text-sm text-gray-600"):
        for step in built.funnel:
            if step.detour:
                text = _("{stage}: {entered} entered, {now} now").format(
                    stage=labels.get(step.stage, step.stage),
                    entered=f"{step.reached:,}",
                    now=f"{step.current:,}",
                )
                ui.label(text).mark("detour")


def _new_people(v: Visit, built: dashboard.Dashboard) -> None:
    _ = v._
    ui.label(_("New people by channel")).classes("text-lg")
    buckets, series_of = bucketed(built.new_people, built.start, built.end)
    unit = {"day": _("per day"), "week": _("per week (from Monday)"), "month": _("per month")}
    ui.label(unit[bucket_size(built.start, built.end)]).classes("text-sm text-gray-600").mark(
        "new-people-unit"
    )
    language = "zh" if (v.actor.locale or "").startswith("zh") else "en"

    def label(group: str) -> str:
        return built.channel_labels.get(group, {}).get(language, group)

    ui.echart(
        {
            "tooltip": {"trigger": "axis"},
            "legend": {"type": "scroll"},
            "xAxis": {"type": "category", "data": buckets},
            "yAxis": {"type": "value"},
            "series": [
                {"type": "bar", "stack": "new", "name": label(group), "data": counts}
                for group, counts in sorted(series_of.items())
            ],
        }
    ).classes("h-72").mark("new-people")


def bucket_size(start: date, end: date) -> str:
    """Days for two months at most, weeks up to half a year, months beyond: a year drew 365
    stacked bars no one could read."""
    days = (end - start).days + 1
    return "day" if days <= 62 else "week" if days <= 183 else "month"


def _bucket_of(day: date, size: str) -> date:
    if size == "week":
        return day - timedelta(days=day.weekday())
    if size == "month":
        return day.replace(day=1)
    return day


def bucketed(
    per_day: dict[str, dict[str, int]], start: date, end: date
) -> tuple[list[str], dict[str, list[int]]]:
    """Every bucket of the range in order (empty ones too, so gaps show as gaps) and, per
    channel group, its count in each."""
    size = bucket_size(start, end)
    keys: list[date] = []
    day = start
    while day <= end:
        key = _bucket_of(day, size)
        if not keys or keys[-1] != key:
            keys.append(key)
        day += timedelta(days=1)
    index = {key: i for i, key in enumerate(keys)}
    series: dict[str, list[int]] = {}
    for group, counts in per_day.items():
        row = series.setdefault(group, [0] * len(keys))
        for text, n in counts.items():
            at = index.get(_bucket_of(date.fromisoformat(text), size))
            if at is not None:
                row[at] += n
    shown = [k.strftime("%Y-%m") if size == "month" else k.isoformat() for k in keys]
    return shown, series


def _top_tags(v: Visit, built: dashboard.Dashboard, names: Labels) -> None:
    _ = v._
    ui.label(_("Top tags")).classes("text-lg")
    ui.echart(
        {
            "tooltip": {},
            "xAxis": {"type": "value"},
            "yAxis": {
                "type": "category",
                "data": [names.tag(t) for t, _n in built.top_tags][::-1],
                "axisLabel": {"interval": 0},
            },
            "series": [{"type": "bar", "data": [n for _t, n in built.top_tags][::-1]}],
        }
    ).classes("h-72").mark("top-tags")


def _score_chart(v: Visit, built: dashboard.Dashboard, model_names: dict[str, str]) -> None:
    """The histogram of one score model, with a picker of every model of the workspace."""
    _ = v._
    options = {m: model_names.get(m, m) for m in built.score_models}
    with ui.row().classes("items-center gap-4 w-full"):
        ui.label(_("Score distribution")).classes("text-lg")
        picker = (
            ui.select(options, value=built.score_model, label=_("Score model"))
            .props("dense outlined options-dense")
            .classes("min-w-48")
            .mark("score-model")
        )
        picker.set_enabled(bool(options))

    def histogram(model: str | None) -> list[tuple[str, int]]:
        if model == built.score_model:
            return built.score_histogram
        with read_only() as session:
            return dashboard.score_histogram(session, v.actor.workspace_id, str(model))

    def option(bands: list[tuple[str, int]]) -> dict[str, Any]:
        return {
            "tooltip": {},
            "xAxis": {"type": "category", "data": [b for b, _n in bands]},
            "yAxis": {"type": "value"},
            "series": [{"type": "bar", "data": [n for _b, n in bands]}],
        }

    bands = built.score_histogram
    chart = ui.echart(option(bands)).classes("h-72").mark("scores")
    empty = ui.label(_("Nobody has points in this model yet.")).classes("text-gray-600")
    empty.mark("scores-empty").set_visibility(not bands and bool(options))

    def redraw() -> None:
        bands = histogram(picker.value) if picker.value else []
        chart.options.clear()
        chart.options.update(option(bands))
        chart.update()
        empty.set_visibility(not bands)

    picker.on_value_change(redraw)
