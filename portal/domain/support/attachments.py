"""A photo or screenshot on a support message: only real JPEG or PNG, re-encoded (so nothing but pixels survives:
no EXIF, GPS, camera or editing metadata), turned upright, at most MAX_SIDE px, stored as a file under the
attachments folder with a small JPEG preview beside it.

The file and its row stay consistent: ``stage`` writes both files under temporary names, the caller adds the row
and commits, then ``Staged.publish`` renames them (or ``Staged.discard`` removes them when the transaction did not
commit). A crash between the two leaves only ``*.part`` files, never a row without its file.
"""
import io
import math
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from portal.domain.errors import DomainError
from portal.models import SupportAttachment

MAX_SIDE = 2000  # px, the longest side kept: enough to read a screenshot, a tenth of a camera's bytes
THUMB_SIDE = 320  # px, the preview in the thread (160 CSS px on a 2× screen)
JPEG_QUALITY = 85
THUMB_QUALITY = 70
FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}
EXTENSIONS = dict(FORMATS.values())
THUMB_SUFFIX = ".thumb.jpg"
NAME_LENGTH = 100


class InvalidPicture(DomainError):
    field = "photo"


NOT_A_PICTURE = _l("Only JPEG or PNG photos.")


@dataclass(frozen=True)
class Picture:
    """A checked and re-encoded picture, not stored yet."""

    content: bytes
    thumb: bytes  # always JPEG
    content_type: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    name: str


def megabytes(size: int) -> str:
    """2097152 → "2" (a limit as people read it)."""
    return f"{size / 1024 / 1024:g}"


def too_large(max_bytes: int) -> InvalidPicture:
    return InvalidPicture(_l("At most %(mb)s MB.", mb=megabytes(max_bytes)))


def read_upload(stream: BinaryIO, max_bytes: int) -> bytes:
    """The uploaded file's bytes; never reads more than one byte over the limit."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return data


def clean_name(name: str | None) -> str:
    """The device's file name as a label: no folders, no control characters, not too long."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join("".join(c for c in name if c.isprintable()).split())
    return name[-NAME_LENGTH:] or "photo"


def process(data: bytes, *, name: str | None, max_bytes: int, max_pixels: int) -> Picture:
    """Check that ``data`` is a JPEG or PNG picture (by its content, not its name) and re-encode it.

    Refused: anything Pillow cannot open and decode as JPEG or PNG, more than ``max_bytes``, more than
    ``max_pixels`` (checked from the header, before any pixel is unpacked: a small PNG may hold gigapixels)."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    try:
        with Image.open(io.BytesIO(data), formats=tuple(FORMATS)) as probe:
            _check_pixels(probe, max_pixels)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=tuple(FORMATS)) as image:
            _check_pixels(image, max_pixels)
            kind = image.format
            scale = MAX_SIDE / max(image.size)
            if scale < 1:  # a JPEG decodes straight at 1/2, 1/4 or 1/8 when that is still ≥ MAX_SIDE: much faster
                image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
            image.load()
            return _encode(image, kind, clean_name(name))
    except Image.DecompressionBombError:
        raise InvalidPicture(_l("The picture is too large: take a screenshot or a smaller photo.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
        raise InvalidPicture(NOT_A_PICTURE) from None


def _check_pixels(image: Image.Image, max_pixels: int) -> None:
    if image.width * image.height > max_pixels:
        raise Image.DecompressionBombError("too many pixels")


def _encode(image: Image.Image, kind: str, name: str) -> Picture:
    content_type = FORMATS[kind][0]
    transparency = kind == "PNG" and (image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info)
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("L", "LA", "RGB", "RGBA") or (kind == "JPEG" and upright.mode not in ("L", "RGB")):
        upright = upright.convert("RGBA" if transparency else "RGB")
    upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A fresh image: nothing of the original's info (EXIF, XMP, ICC, text chunks, comments) can ride along.
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    else:
        clean.save(out, "PNG", optimize=True)
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    if thumb.mode in ("LA", "RGBA"):  # a JPEG preview has no transparency: on white, as the page shows it
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    small = io.BytesIO()
    thumb.save(small, "JPEG", quality=THUMB_QUALITY, optimize=True)
    return Picture(content=out.getvalue(), thumb=small.getvalue(), content_type=content_type, width=clean.width,
                   height=clean.height, thumb_width=thumb.width, thumb_height=thumb.height, name=name)


# ---- storage --------------------------------------------------------------------------------------------------

def path_of(directory: str | Path, attachment: SupportAttachment, *, thumb: bool = False) -> Path:
    """Where the attachment's picture (or its preview) lives: a folder per first two letters of the random name,
    so no folder grows past a few thousand files."""
    name = attachment.stored_name
    suffix = THUMB_SUFFIX if thumb else EXTENSIONS[attachment.content_type]
    return Path(directory) / name[:2] / (name + suffix)


@dataclass
class Staged:
    """The picture's files under temporary names until the row is committed."""

    files: list[tuple[Path, Path]]  # (temporary, final)

    def publish(self) -> None:
        for temporary, final in self.files:
            os.replace(temporary, final)
        self.files = []

    def discard(self) -> None:
        for temporary, _final in self.files:
            temporary.unlink(missing_ok=True)
        self.files = []


def attach(session: Session, *, message_id: int, picture: Picture, directory: str | Path,
           now: datetime) -> tuple[SupportAttachment, Staged]:
    """Write the picture's files under temporary names and add its row to the session (not committed): the
    caller publishes the files after its commit, or discards them."""
    attachment = SupportAttachment(message_id=message_id, stored_name=secrets.token_hex(16),
                                   original_name=picture.name, content_type=picture.content_type,
                                   size=len(picture.content), width=picture.width, height=picture.height,
                                   thumb_width=picture.thumb_width, thumb_height=picture.thumb_height,
                                   created_at=now)
    staged = Staged([])
    try:
        for thumb, content in ((False, picture.content), (True, picture.thumb)):
            final = path_of(directory, attachment, thumb=thumb)
            final.parent.mkdir(parents=True, exist_ok=True)
            temporary = final.with_name(final.name + ".part")
            staged.files.append((temporary, final))
            with open(temporary, "xb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
    except BaseException:
        staged.discard()
        raise
    session.add(attachment)
    return attachment, staged


def audit_note(attachment: SupportAttachment) -> str:
    """The attachment as the message's audit event names it."""
    return f"photo {attachment.original_name} ({attachment.size} B, {attachment.width}×{attachment.height})"
