"""Personalised badges as a printable PDF (fpdf2): name, company, title and the badge QR,
one badge per A6-sized page, for one attendee or a batch. The font must hold Chinese glyphs:
``LEADPOND_BADGE_FONT`` (default: Debian's fonts-wqy-microhei)."""

import io
from collections.abc import Sequence

import segno
from fpdf import FPDF
from sqlalchemy.orm import Session

from leadpond.config import get_settings
from leadpond.engage import events as ev
from leadpond.engage.events_models import EventRegistration, MarketingEvent
from leadpond.kit.errors import LeadpondError

PAGE_MM = (105.0, 148.0)  # A6 portrait: fits a badge holder
QR_MM = 52.0


class BadgeFontMissing(LeadpondError):
    status_code, code = 500, "badge_font_missing"


def _font() -> str:
    path = get_settings().badge_font
    if not path.is_file():
        raise BadgeFontMissing(
            f"the badge font {path} does not exist: install fonts-wqy-microhei or set "
            "LEADPOND_BADGE_FONT to a TTF/TTC font with Chinese glyphs"
        )
    return str(path)


def _fit(pdf: FPDF, text: str, size: float, width: float) -> None:
    pdf.set_font_size(size)
    while size > 7 and pdf.get_string_width(text) > width:
        size -= 1
        pdf.set_font_size(size)


def badges_pdf(
    session: Session, event: MarketingEvent, registrations: Sequence[EventRegistration]
) -> bytes:
    """A PDF with a badge per registration (in the order given)."""
    pdf = FPDF(unit="mm", format=PAGE_MM)
    pdf.set_auto_page_break(False)
    pdf.add_font("badge", fname=_font())
    width = PAGE_MM[0] - 12
    for registration in registrations:
        pdf.add_page()
        pdf.set_font("badge", size=10)
        pdf.set_text_color(90, 90, 90)
        pdf.set_xy(6, 8)
        _fit(pdf, event.name_zh, 11, width)
        pdf.cell(width, 6, event.name_zh, align="C")
        pdf.set_text_color(20, 20, 20)
        for y, text, size in (
            (24, registration.name or "", 24),
            (38, registration.company or "", 13),
            (46, registration.title or "", 11),
        ):
            pdf.set_xy(6, y)
            _fit(pdf, text, size, width)
            pdf.cell(width, 10, text, align="C")
        qr = io.BytesIO()
        segno.make(ev.badge_url(session, registration, event), error="m").save(
            qr, kind="png", scale=8, border=2
        )
        qr.seek(0)
        pdf.image(qr, x=(PAGE_MM[0] - QR_MM) / 2, y=62, w=QR_MM, h=QR_MM)
        pdf.set_xy(6, 118)
        pdf.set_font_size(8)
        pdf.set_text_color(120, 120, 120)
        pdf.cell(width, 5, f"No. {registration.id}", align="C")
    return bytes(pdf.output())
