"""A monthly document as a PDF (fpdf2, the font the call details use: it has Cyrillic)."""
from datetime import datetime

from flask_babel import gettext as _

from portal import formatting
from portal.domain.details import PDF_SPACES, format_roubles
from portal.domain.documents import ACT, INVOICE, STATEMENT, MonthDocument, issued_at
from portal.domain.pdf import begin

LINE_CHARS = 76  # what 140 mm hold at 9 pt


def _money(kopecks: int, locale: str) -> str:
    return f"{format_roubles(kopecks, locale)} {_('RUB')}"


def render(document: MonthDocument, *, brand: str, locale: str, now: datetime) -> bytes:
    from fpdf import FPDF

    pdf = begin(FPDF(format="A4"), title=f"{document.title} {document.number}", brand=brand, margin=15, bottom=15)

    def row(name: str, value: str, *, size: int = 9) -> None:
        pdf.set_font("mono", size=size)
        pdf.cell(60, 5.5, name.translate(PDF_SPACES))
        pdf.cell(0, 5.5, value.translate(PDF_SPACES), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font("mono", size=13)
    pdf.multi_cell(0, 7, f"{brand} — {document.title} № {document.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    month = formatting.date_pattern(document.month, "LLLL y", locale)
    row(_("Number or contract") + ":", document.account_label)
    row(_("Holder") + ":", document.holder)
    row(_("Period") + ":", month if document.complete else _("%(month)s, so far", month=month))
    row(_("Date") + ":", formatting.date_long(issued_at(document, now=now), locale))
    pdf.ln(4)

    pdf.set_font("mono", size=8)
    pdf.cell(140, 5.5, _("What for"), border="B")
    pdf.cell(0, 5.5, _("Amount"), border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("mono", size=9)
    for line in document.lines:
        text = line.text if line.count == 1 else f"{line.text} (×{line.count})"
        if len(text) > LINE_CHARS:  # one line a row: the amount stays beside its text
            text = text[:LINE_CHARS - 1] + "…"
        pdf.cell(140, 5, text.translate(PDF_SPACES))
        pdf.cell(0, 5, _money(line.amount, locale).translate(PDF_SPACES), align="R", new_x="LMARGIN", new_y="NEXT")
    if not document.lines:
        pdf.cell(0, 6, _("Nothing in this month."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    if document.kind == STATEMENT:
        row(_("Balance at the start") + ":", _money(document.opening, locale))
        row(_("Paid in") + ":", _money(document.paid, locale))
        row(_("Charged") + ":", _money(document.charged, locale))
        row(_("Balance at the end") + ":", _money(document.closing, locale), size=10)
    elif document.kind == ACT:
        row(_("Services rendered, total") + ":", _money(document.total, locale), size=10)
        pdf.ln(3)
        pdf.set_font("mono", size=8)
        pdf.multi_cell(0, 4.5, _("The services above were rendered in full and on time in %(month)s; the amounts "
                                 "were charged to the contract's personal account.", month=month),
                       new_x="LMARGIN", new_y="NEXT")
    elif document.kind == INVOICE:
        row(_("Fees of the month") + ":", _money(document.total, locale))
        row(_("Balance at the start") + ":", _money(document.opening, locale))
        row(_("To pay") + ":", _money(document.due, locale), size=10)
        pdf.ln(3)
        pdf.set_font("mono", size=8)
        pdf.multi_cell(0, 4.5, _("Pay by card or СБП in the personal account, or at any payment point with the "
                                 "contract number %(contract)s.", contract=document.account_label),
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
