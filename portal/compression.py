"""Fewer bytes on slow links (docs/architecture.md §6): precompressed static files, compressed pages.

Works the same under ``flask run`` and gunicorn, with no front proxy: a phone on 2G
gets brotli when it says so in Accept-Encoding, else gzip, else the plain body.
"""
import gzip
import mimetypes
import os
from functools import lru_cache

import brotli
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

# Text worth compressing; images (PNG captcha), sound and PDF are compressed already.
COMPRESSIBLE = frozenset({
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "image/svg+xml", "text/plain", "text/csv",
})
# Below about one packet compression saves nothing a phone would notice and costs a little CPU.
MIN_SIZE = 512


def chosen_encoding() -> str | None:
    """The request's best coding we speak: brotli, else gzip, else none (also for ``gzip;q=0``)."""
    for coding in ("br", "gzip"):
        if request.accept_encodings.quality(coding) > 0:
            return coding
    return None


def compress(body: bytes, coding: str, *, once: bool = False) -> bytes:
    """``once``: a static file compressed a single time per process may take the slowest, smallest setting;
    a page is compressed on every request, so it takes a fast level that keeps most of the gain."""
    if coding == "br":
        return brotli.compress(body, quality=11 if once else 5)
    return gzip.compress(body, compresslevel=9 if once else 6, mtime=0)


@lru_cache(maxsize=64)
def _precompressed(path: str, coding: str, mtime_ns: int, size: int) -> bytes:
    # mtime and size are part of the key, so an edited file (development) is compressed afresh.
    with open(path, "rb") as source:
        return compress(source.read(), coding, once=True)


def static_file(filename: str):
    """Flask's static view, with the brotli or gzip body chosen by Accept-Encoding.

    Each file is compressed once per process at the best setting and kept in memory
    (the static folder is a few files); the fingerprinted URL makes it immutable
    for the browser (see ``web.static_url`` and ``web.security_headers``).
    """
    app = current_app._get_current_object()
    path = safe_join(app.static_folder, filename)
    mimetype = mimetypes.guess_type(filename)[0]
    if path is None or not os.path.isfile(path):
        raise NotFound()
    coding = chosen_encoding() if mimetype in COMPRESSIBLE else None
    if coding is None:
        response = app.send_static_file(filename)
    else:
        stat = os.stat(path)
        response = Response(_precompressed(path, coding, stat.st_mtime_ns, stat.st_size), mimetype=mimetype)
        response.headers["Content-Encoding"] = coding
        response.set_etag(f"{stat.st_mtime_ns:x}-{stat.st_size:x}-{coding}")
        response.last_modified = int(stat.st_mtime)
        response.make_conditional(request)
    if mimetype in COMPRESSIBLE:
        response.vary.add("Accept-Encoding")
    return response


def compress_response(response: Response) -> Response:
    """Compress a page (or JSON) in memory; streamed downloads (CSV) and files go out as they are."""
    if (response.mimetype not in COMPRESSIBLE or response.direct_passthrough or response.is_streamed
            or "Content-Encoding" in response.headers or request.endpoint == "static"):
        return response
    response.vary.add("Accept-Encoding")
    coding = chosen_encoding()
    if coding is None or response.status_code in (204, 206, 304):
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(compress(body, coding))
    response.headers["Content-Encoding"] = coding
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}-{coding}", weak)
    return response


def init_app(app: Flask) -> None:
    app.view_functions["static"] = static_file
    app.after_request(compress_response)
