"""What every PDF of the portal starts with (fpdf2): its title and maker, the font that has Cyrillic, margins and
the first page. Call details, receipts and monthly documents build on it."""
from portal.domain.details import font_path

FONT = "mono"  # DroidSansMono from the captcha package (portal.domain.details.font_path)


def begin(pdf, *, title: str, brand: str, margin: float, bottom: float):
    """``pdf`` (an FPDF, or a subclass with its own header and footer) set up and on its first page."""
    pdf.set_title(title)
    pdf.set_creator(brand)
    pdf.add_font(FONT, fname=str(font_path()))
    pdf.set_margins(margin, margin, margin)
    pdf.set_auto_page_break(True, margin=bottom)
    pdf.add_page()
    return pdf
