"""A crawler for browser tests: from a start page, visit every page of the portal a person can reach.

``crawl(page, visit)`` follows same-origin links breadth-first and calls ``visit(page, href, response)``
on each page once (by path). Files (CSV, PDF, audio, pictures), the sign-in area, staff pages (unless
``area="/admin"``), development pages and older pages of a list (``before=``) are left out.
"""
from urllib.parse import urlsplit

SKIP_SUFFIXES = (".csv", ".pdf", ".wav", ".png")  # and support pictures (/pictures/ in the path)
MAX_PAGES = 150
# Pages of one template, one per item of a long list (a receipt per payment): the first one found stands for all.
SAMPLED = ("/payments/receipts/",)


def _seen_as(path: str) -> str:
    return next((prefix for prefix in SAMPLED if path.startswith(prefix)), path)


def _is_page(href: str, area: str) -> bool:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.endswith(SKIP_SUFFIXES):
        return False
    if parts.path.startswith(("/auth/", "/dev/", "/static/")) or "/pictures/" in parts.path or "before=" in parts.query:
        return False
    if parts.path.endswith("/logout"):
        return False
    return parts.path.startswith("/admin") == (area == "/admin")


def crawl(page, visit, *, start: str = "/", area: str = "/") -> list[str]:
    seen, queue = [], [start]
    while queue and len(seen) < MAX_PAGES:
        href = queue.pop(0)
        path = _seen_as(urlsplit(href).path)
        if path in seen:
            continue
        seen.append(path)
        response = page.goto(href)
        assert response.status < 500, f"{href} answered {response.status}"
        visit(page, href, response)
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        queue.extend(link for link in links if _is_page(link, area) and _seen_as(urlsplit(link).path) not in seen)
    return seen
