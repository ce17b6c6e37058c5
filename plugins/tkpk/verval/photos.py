"""Read one photo cheaply: format, size, EXIF GPS and DateTimeOriginal, and a perceptual hash of a thumbnail.

The pixel count is read from the header and a picture larger than the configured limit is refused before any pixel
is decoded (a decompression bomb: a few KB of PNG that would unpack to gigabytes). JPEGs are decoded through
`Image.draft`, which lets libjpeg scale by 1/2..1/8 while decoding: a 1600x1200 phone photo becomes a 200x150
thumbnail without the full image ever being in memory. The perceptual hash (ImageHash's pHash of that thumbnail)
stays the same when a picture is resized or re-compressed, so a photo re-used for another household is recognised.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, UnidentifiedImageError

PHOTO_EXTS = frozenset({"jpg", "jpeg", "png", "heic", "heif"})
_FORMATS = frozenset({"JPEG", "MPO", "PNG", "HEIF", "HEIC"})
_THUMB = (128, 128)  # JPEG draft target: libjpeg picks the smallest scale at least this large
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL = 36867
_heif_ready = False


def _register_heif() -> None:
    global _heif_ready
    if not _heif_ready:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_ready = True


@dataclass
class PhotoInfo:
    """What one photo tells: `problem` (None, or why it is foto_rusak), GPS (lat, lng), EXIF date, pHash."""

    name: str
    sha256: str
    size: int
    problem: str | None = None  # rusak reason in Indonesian; None when the photo decoded
    bomb: bool = False
    format: str | None = None
    width: int | None = None
    height: int | None = None
    lat: float | None = None
    lng: float | None = None
    taken: datetime | None = None
    phash: str | None = None  # 16 hex digits (64-bit pHash)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _ratio(value) -> float:
    if isinstance(value, tuple) and len(value) == 2:  # older EXIF writers: (numerator, denominator)
        return float(value[0]) / float(value[1]) if value[1] else float("nan")
    return float(value)


def gps_of(gps: dict) -> tuple[float, float] | None:
    """(lat, lng) in degrees from an EXIF GPS IFD, None when absent, incomplete or 0,0 (a phone without a fix)."""
    try:
        lat_ref, lat, lng_ref, lng = gps.get(1), gps.get(2), gps.get(3), gps.get(4)
        if not lat or not lng:
            return None
        la = sum(_ratio(v) / 60**i for i, v in enumerate(lat[:3]))
        lo = sum(_ratio(v) / 60**i for i, v in enumerate(lng[:3]))
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if str(lat_ref or "N").upper().startswith("S"):
        la = -la
    if str(lng_ref or "E").upper().startswith("W"):
        lo = -lo
    if la != la or lo != lo or not (-90 <= la <= 90 and -180 <= lo <= 180) or (la == 0 and lo == 0):
        return None
    return la, lo


def taken_of(exif) -> datetime | None:
    raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL)
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "ignore")
    if not raw:
        return None
    text = str(raw).strip().rstrip("\x00")
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d"):
        try:
            return datetime.strptime(text[:19] if fmt.endswith("%S") else text[:10], fmt)
        except ValueError:
            continue
    return None


def inspect_photo(data: bytes, name: str, *, max_pixels: int) -> PhotoInfo:
    """Check one photo's bytes. Never raises for a bad photo: `problem` says what is wrong."""
    import imagehash

    info = PhotoInfo(name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    if not data:
        info.problem = "berkas kosong (0 byte)"
        return info
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypmsf1"):
        _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))  # reads the header only
        info.format, (info.width, info.height) = im.format, im.size
        if im.format not in _FORMATS:
            info.problem = f"format {im.format} bukan JPEG, PNG atau HEIC"
            return info
        if info.width * info.height > max_pixels:
            info.problem, info.bomb = (f"gambar {info.width}x{info.height} piksel melebihi batas "
                                       f"{max_pixels / 1e6:.0f} megapiksel; tidak dibuka"), True
            return info
        exif = im.getexif()
        where = gps_of(exif.get_ifd(_GPS_IFD))
        if where:
            info.lat, info.lng = where
        info.taken = taken_of(exif)
        if im.format in ("JPEG", "MPO"):
            im.draft("RGB", _THUMB)
        im.thumbnail((256, 256))  # decodes (a JPEG at its draft scale); raises on a truncated or damaged stream
        info.phash = str(imagehash.phash(im))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        info.problem, info.bomb = "gambar terlalu besar (bom dekompresi); tidak dibuka", True
    except UnidentifiedImageError:
        info.problem = "bukan gambar yang dapat dibaca (JPEG/PNG/HEIC)"
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError) as exc:
        info.problem = f"gambar rusak atau terpotong ({type(exc).__name__})"
    return info
