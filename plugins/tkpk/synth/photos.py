"""Synthetic house photos for verval: small JPEGs with EXIF GPS and DateTimeOriginal, each picture different enough
that its perceptual hash does not collide with another's (blocks of colour at random places), for `tkpk synth`,
the tests and the benchmark."""

from __future__ import annotations

import io
from datetime import datetime
from fractions import Fraction

import numpy as np
from PIL import Image


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round((value - deg - minutes / 60) * 3600, 4)
    return Fraction(deg), Fraction(minutes), Fraction(seconds).limit_denominator(10000)


def exif_for(lat: float | None, lng: float | None, taken: datetime | None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TKPK Synth"  # Make
    if taken is not None:
        exif.get_ifd(0x8769)[36867] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if lat is not None and lng is not None:
        gps = exif.get_ifd(0x8825)
        gps[0] = b"\x02\x03\x00\x00"
        gps[1] = "S" if lat < 0 else "N"
        gps[2] = _dms(lat)
        gps[3] = "W" if lng < 0 else "E"
        gps[4] = _dms(lng)
    return exif


def picture(seed: int, width: int = 320, height: int = 240) -> Image.Image:
    """A picture unique to `seed`: a coarse random grid of colours (what pHash sees) with fine texture on top."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    img = Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.int16)
    texture = rng.integers(-24, 25, size=(height // 4 + 1, width // 4 + 1, 1), dtype=np.int16)
    arr = arr + np.repeat(np.repeat(texture, 4, axis=0), 4, axis=1)[:height, :width]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def photo_bytes(seed: int, lat: float | None, lng: float | None, taken: datetime | None, *, width: int = 320,
                height: int = 240, quality: int = 80, image: Image.Image | None = None) -> bytes:
    """A JPEG of `picture(seed)` (or `image`) carrying the given EXIF GPS and date (None leaves them out)."""
    im = image if image is not None else picture(seed, width, height)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, exif=exif_for(lat, lng, taken))
    return buf.getvalue()


def recompressed(data: bytes, scale: float = 0.5, quality: int = 60) -> bytes:
    """The same picture resized and re-compressed, EXIF kept (what a messenger app does to a re-sent photo)."""
    im = Image.open(io.BytesIO(data))
    exif = im.getexif()
    small = im.convert("RGB").resize((max(1, int(im.width * scale)), max(1, int(im.height * scale))),
                                     Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=quality, exif=exif)
    return buf.getvalue()
