"""Pictures for the support attachment tests: real JPEG and PNG files made with Pillow."""
import io

from PIL import Image

ORIENTATION, MAKE, GPS_INFO = 0x0112, 0x010F, 0x8825


def jpeg(size=(400, 300), *, color="red", orientation: int | None = None, gps: bool = False, quality=90) -> bytes:
    """A JPEG as a phone makes it: EXIF with the camera's make, maybe its orientation and where it was taken."""
    image = Image.new("RGB", size, color)
    image.paste("blue", (0, 0, size[0] // 2, size[1] // 2))  # the top-left quarter: orientation is visible
    exif = image.getexif()
    exif[MAKE] = "PhoneMaker"
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif.get_ifd(GPS_INFO).update({1: "N", 2: (55.0, 45.0, 20.0), 3: "E", 4: (37.0, 37.0, 4.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=quality, comment=b"taken at home")
    return out.getvalue()


def png(size=(300, 200), *, mode="RGBA") -> bytes:
    from PIL import PngImagePlugin

    image = Image.new(mode, size, (0, 128, 0, 128) if mode == "RGBA" else "green")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Somebody")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def noise_jpeg(nbytes: int) -> bytes:
    """A real JPEG of at least ``nbytes`` (random pixels do not compress)."""
    import os

    side = 256
    while True:
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=95)
        if out.tell() >= nbytes:
            return out.getvalue()
        side *= 2


def bomb_png(side=20000) -> bytes:
    """A small file that unpacks to ``side``² pixels."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG", optimize=True)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))
