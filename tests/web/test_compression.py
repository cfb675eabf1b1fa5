"""First paint on a slow link (docs/architecture.md §6): compressed static files and pages, nothing blocks the paint."""
import gzip
import re
import struct

import brotli
import pytest

from portal.compression import MIN_SIZE
from portal.web import STATIC_DIR

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


def static_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+\?v=[0-9a-f]{12})"', page)


@pytest.mark.parametrize("accept, coding", [("gzip, deflate, br", "br"), ("br;q=0, gzip", "gzip"),
                                            ("gzip", "gzip"), ("identity", None), ("", None)])
def test_static_files_come_precompressed_by_accept_encoding_and_immutable(client, accept, coding):
    urls = static_urls(client.get("/auth/login").text)
    assert len(urls) >= 2  # the CSS and htmx at least
    for url in urls:
        response = client.get(url, headers={"Accept-Encoding": accept})
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == coding
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        original = (STATIC_DIR / url.split("?")[0].removeprefix("/static/")).read_bytes()
        body = DECODE[coding](response.data) if coding else response.data
        assert body == original
        if coding:  # a small script saves less than half, the CSS and htmx much more
            assert len(response.data) < len(original) / (2 if len(original) > 4096 else 1.5)


def test_a_compressed_static_file_answers_304_to_its_own_etag(client):
    url = static_urls(client.get("/auth/login").text)[0]
    first = client.get(url, headers={"Accept-Encoding": "br"})
    again = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    other = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200 and other.headers["Content-Encoding"] == "gzip"


def test_a_missing_static_file_is_404(client):
    assert client.get("/static/no-such.css", headers={"Accept-Encoding": "br"}).status_code == 404
    assert client.get("/static/../portal/web.py", headers={"Accept-Encoding": "br"}).status_code == 404


@pytest.mark.parametrize("accept, coding", [("gzip, br", "br"), ("gzip", "gzip")])
def test_pages_are_compressed(client, login_as, accept, coding):
    login_as()
    plain = client.get("/")
    response = client.get("/", headers={"Accept-Encoding": accept})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == coding
    assert "Accept-Encoding" in response.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    page = DECODE[coding](response.data).decode()
    assert "<nav" in page and len(response.data) < len(plain.data) / 2
    assert "Content-Encoding" not in plain.headers


def test_the_sign_in_page_and_its_422_are_compressed(client):
    assert client.get("/auth/login", headers={"Accept-Encoding": "br"}).headers["Content-Encoding"] == "br"
    refused = client.post_form("/auth/login", {"phone": "not a phone", "password": "x"},
                               headers={"Accept-Encoding": "gzip", "HX-Request": "true"})
    assert refused.status_code == 422 and refused.headers["Content-Encoding"] == "gzip"


def test_tiny_answers_are_not_compressed(app, client):
    app.add_url_rule("/tiny", "tiny", lambda: "<p>" + "x" * (MIN_SIZE - 10) + "</p>")
    response = client.get("/tiny", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_streamed_csv_downloads_are_not_compressed(client, login_as):
    login_as()
    response = client.get("/payments/history.csv", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "Content-Encoding" not in response.headers
    assert response.data.decode("utf-8-sig").count("\n") >= 1


def test_the_captcha_picture_has_its_size_in_the_page(client):
    page = client.get("/auth/password").text
    img = re.search(r'<img src="(/auth/captcha/[^"]+\.png)" width="(\d+)" height="(\d+)"', page)
    assert img, "the captcha <img> must carry width and height so the page does not jump when it loads"
    png = client.get(img.group(1)).data
    assert struct.unpack(">II", png[16:24]) == (int(img.group(2)), int(img.group(3)))


def test_scripts_never_hold_up_the_first_paint(client, login_as):
    pages = [client.get("/auth/login").text, client.get("/auth/password").text]
    login_as()
    pages += [client.get("/").text, client.get("/numbers/sms").text]
    for page in pages:
        scripts = re.findall(r"<script[^>]*>", page)
        assert scripts and all(" defer" in tag or " async" in tag for tag in scripts), scripts
