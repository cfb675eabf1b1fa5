"""The receipt as a PDF the size of a till receipt (A6), with the same lines as its page."""
from datetime import datetime

from flask_babel import gettext as _

from portal import formatting
from portal.domain.details import PDF_SPACES
from portal.domain.pdf import begin
from portal.domain.receipts import codes
from portal.domain.receipts.receipt import Receipt, facts

LABEL_WIDTH = 34  # mm of A6's 105, the rest is the value
A6 = (105, 148)  # mm; fpdf2 knows A3 to A5 by name only


def _printable(text: str) -> str:
    """The font has neither the narrow no-break space nor the rouble sign: a plain space and "RUB" in their place."""
    return text.translate(PDF_SPACES).replace(formatting.ROUBLE_SIGN, _("RUB"))


def build_pdf(r: Receipt, *, brand: str, locale: str, tz: str, now: datetime) -> bytes:
    """One A6 page (more if the lines run over): the operator, the code, then each line of the receipt."""
    from fpdf import FPDF

    title = _("Receipt %(code)s", code=codes.grouped(r.code))
    pdf = begin(FPDF(format=A6), title=title, brand=brand, margin=8, bottom=8)
    pdf.set_subject(codes.grouped(r.code))  # in plain ASCII in the file: a search finds the receipt by its code
    pdf.set_font("mono", size=11)
    pdf.multi_cell(0, 5.5, _printable(brand), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("mono", size=10)
    pdf.multi_cell(0, 5.5, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("mono", size=7.5)
    for fact in facts(r, locale=locale, tz=tz):
        if pdf.get_y() > pdf.page_break_trigger - 12:  # a line and its label stay on one page
            pdf.add_page()
        top = pdf.get_y()
        pdf.multi_cell(LABEL_WIDTH, 4, _printable(fact.label) + ":", align="L", new_x="LMARGIN", new_y="NEXT")
        label_bottom = pdf.get_y()
        pdf.set_xy(pdf.l_margin + LABEL_WIDTH, top)
        pdf.multi_cell(0, 4, _printable(fact.value), align="L", new_x="LMARGIN", new_y="NEXT",
                       link=fact.url)
        pdf.set_y(max(pdf.get_y(), label_bottom) + 0.8)
    pdf.ln(2)
    pdf.set_font("mono", size=6.5)
    pdf.multi_cell(0, 3.5, _printable(_("Printed %(moment)s", moment=formatting.datetime_short(now, locale, tz))),
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
