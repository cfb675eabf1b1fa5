"""QR codes as inline SVG (an СБП payment's code): drawn on the server with segno and sent inside the page, so
there is no image request and nothing to load from elsewhere.

segno's SVG carries its colours as presentation attributes (``fill``, ``stroke``), never a ``style`` attribute, so
the strict CSP (no inline style) holds; the size comes from portal.css (the SVG has a viewBox only).
"""
import io
from functools import lru_cache

import segno
from markupsafe import Markup, escape

# "M" (15 % of the code may be damaged) reads well off a screen; a payment link of ~100 characters stays at
# version 6 (41 × 41 modules), about 0.7 KB gzipped.
ERROR_LEVEL = "m"
QUIET_ZONE = 4  # modules of white around the code, as the standard asks


@lru_cache(maxsize=512)
def _svg(payload: str) -> str:
    buffer = io.BytesIO()
    segno.make(payload, error=ERROR_LEVEL, micro=False).save(
        buffer, kind="svg", xmldecl=False, svgns=True, nl=False, omitsize=True, border=QUIET_ZONE, svgclass="qr",
        lineclass=None, dark="#000", light="#fff")
    svg = buffer.getvalue().decode()
    if " style=" in svg or "<style" in svg or "<script" in svg:  # the CSP would refuse it (a segno upgrade?)
        raise RuntimeError("segno's SVG has an inline style or script")
    return svg


def qr_svg(payload: str, label: str) -> Markup:
    """``payload`` as an inline ``<svg>`` image named ``label`` for screen readers."""
    svg = _svg(payload)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))
