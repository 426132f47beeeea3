"""Photo evidence: checking an uploaded photo, reading its EXIF, and content-addressed storage.

Pure Python + Pillow. A photo is stored under the sha256 of its exact bytes, so the same photo sent
twice (a retried upload, a re-synced bundle) is stored once and every copy can be re-verified.
Layout under the store root, `ab` being the first two hex digits of the hash:

    original/ab/<sha256>.<jpg|png|webp>   the bytes as uploaded, never changed
    display/ab/<sha256>.jpg               upright, long edge <= 1280 px, no EXIF (no GPS), JPEG q82
    thumb/ab/<sha256>.jpg                 the same at 320 px

Only JPEG, PNG and WebP are accepted. HEIC is not: Pillow here has no HEIF decoder (pillow-heif is
not installed), and browsers hand `capture="environment"` photos over as JPEG anyway.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import math
import os
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from PIL import ExifTags, Image

from app import faults
from app.files import write_atomic
from survey.problems import SURVEY_PROBLEMS, PhotoError

MAX_PIXELS = 60_000_000  # a 50 MP tablet camera fits; a 60 MP frame is ~180 MB decoded as RGB
DISPLAY_EDGE = 1280
THUMB_EDGE = 320
VARIANT_QUALITY = 82
VARIANTS = ("original", "display", "thumb")

# Pillow format -> (mime, file extension). The only formats accepted.
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# Recordings and documents a `file` item takes (XLSForm audio, video, file and osm questions): kind -> (mime,
# extension). Recognised by their magic bytes only; served back as downloads, never rendered by the app.
MEDIA = {
    "mp3": ("audio/mpeg", "mp3"), "m4a": ("audio/mp4", "m4a"), "wav": ("audio/wav", "wav"),
    "ogg": ("audio/ogg", "ogg"), "amr": ("audio/amr", "amr"), "flac": ("audio/flac", "flac"),
    "mp4": ("video/mp4", "mp4"), "mov": ("video/quicktime", "mov"), "3gp": ("video/3gpp", "3gp"),
    "webm": ("video/webm", "webm"), "pdf": ("application/pdf", "pdf"),
    "osm": ("application/vnd.openstreetmap.data+xml", "osm"), "zip": ("application/zip", "zip"),
    "txt": ("text/plain", "txt"),
}
# What each kind of file question accepts (survey.checklist.FILE_ACCEPTS).
ACCEPTS = {
    "audio": frozenset({"mp3", "m4a", "wav", "ogg", "amr", "flac", "3gp", "webm", "mp4"}),
    "video": frozenset({"mp4", "mov", "3gp", "webm"}),
    "osm": frozenset({"osm"}),
    "file": frozenset(MEDIA),
}
_EXTENSIONS = tuple(ext for _, ext in FORMATS.values()) + tuple(ext for _, ext in MEDIA.values())
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXIF_DATETIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}
# EXIF Orientation -> the transpose that makes the picture upright (as PIL.ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What Pillow raises on a file whose header looked right but whose content does not decode.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)
# What a malformed EXIF block can raise; metadata is optional, so these only mean "no metadata".
_EXIF_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError)


@dataclass(frozen=True)
class PhotoInfo:
    """What a stored photo is: its hash, format, upright size and what the camera recorded."""

    sha256: str
    size_bytes: int
    mime: str
    width: int
    height: int
    taken_at: datetime.datetime | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_accuracy_m: float | None = None

    def taken_at_aware(self, assumed_zone: datetime.tzinfo) -> datetime.datetime | None:
        """taken_at with a time zone: the camera's offset if it wrote one, else `assumed_zone` (the installation's)."""
        return in_zone(self.taken_at, assumed_zone)

    @property
    def extension(self) -> str:
        """The file extension of the original: jpg, png or webp."""
        return next(ext for mime, ext in FORMATS.values() if mime == self.mime)


def is_picture(mime: str | None) -> bool:
    """Whether a stored file is a photo (with display copies), not a recording or document."""
    return mime in {m for m, _ in FORMATS.values()}


def inspect_file(data: bytes, max_bytes: int, accept: str = "file", expected_sha256: str | None = None) -> PhotoInfo:
    """Check a recording or document for a `file` item: not empty, within the limit, its hash, a kind it accepts."""
    if not data:
        raise SURVEY_PROBLEMS("file.empty")
    if len(data) > max_bytes:
        raise SURVEY_PROBLEMS("photo.too_large", size_mb=_megabytes(len(data)), limit_mb=_megabytes(max_bytes))
    sha256 = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and expected_sha256.lower() != sha256:
        raise SURVEY_PROBLEMS("photo.hash_mismatch")
    kind = sniff_media(data)
    if kind is None or kind not in ACCEPTS.get(accept, ACCEPTS["file"]):
        raise SURVEY_PROBLEMS(f"file.not_{accept}" if accept in ("audio", "video", "osm") else "file.unknown_kind")
    mime, _ = MEDIA[kind]
    return PhotoInfo(sha256=sha256, size_bytes=len(data), mime=mime, width=0, height=0)


def sniff_media(data: bytes) -> str | None:
    """The kind of a recording or document from its first bytes (MEDIA), or None."""
    head = data[:64]
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] in (0xFB, 0xF3, 0xF2)):
        return "mp3"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"#!AMR"):
        return "amr"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"3g"):
            return "3gp"
        if brand == b"qt  ":
            return "mov"
        if brand in (b"M4A ", b"M4B "):
            return "m4a"
        if brand not in _HEIF_BRANDS and brand not in (b"avif", b"avis"):
            return "mp4"
        return None
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    text = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<?xml") and b"<osm" in text[:1024] or text.startswith(b"<osm"):
        return "osm"
    try:
        sample = data[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "txt" if "\x00" not in sample and not text.startswith((b"<", b"\x00")) else None


class _Decoded(NamedTuple):
    """A checked photo with its decoded pixels, kept so the display copies need no second decode."""

    info: PhotoInfo
    image: Image.Image
    orientation: int


# --- Checking an upload ----------------------------------------------------------------------


def inspect_photo(data: bytes, max_bytes: int, *, max_pixels: int = MAX_PIXELS,
                  expected_sha256: str | None = None) -> PhotoInfo:
    """Check that `data` is a whole JPEG, PNG or WebP photo and describe it; raise PhotoError if not."""
    return _decode(data, max_bytes, max_pixels, expected_sha256).info


def _decode(data: bytes, max_bytes: int, max_pixels: int, expected_sha256: str | None) -> _Decoded:
    """Run every check in order, cheapest first, and return the fully decoded image."""
    if not data:
        raise SURVEY_PROBLEMS("photo.empty")
    if len(data) > max_bytes:
        raise SURVEY_PROBLEMS("photo.too_large", size_mb=_megabytes(len(data)), limit_mb=_megabytes(max_bytes))
    sha256 = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and expected_sha256.lower() != sha256:
        raise SURVEY_PROBLEMS("photo.hash_mismatch")
    pillow_format = _sniff_format(data)
    image = _open_fully(data, pillow_format, max_pixels)
    exif = _read_exif(image)
    orientation = _orientation(exif)
    width, height = image.size
    if orientation in (5, 6, 7, 8):  # these orientations turn the picture a quarter turn
        width, height = height, width
    lat, lon, accuracy = _gps(exif)
    info = PhotoInfo(sha256=sha256, size_bytes=len(data), mime=FORMATS[pillow_format][0],
                     width=width, height=height, taken_at=_taken_at(exif),
                     gps_lat=lat, gps_lon=lon, gps_accuracy_m=accuracy)
    return _Decoded(info, image, orientation)


def _megabytes(size: int) -> str:
    """A size in MB (MiB, as MAX_UPLOAD_MB counts them) for a message: '25', '0.5'."""
    # Round up, so a file just over a 10 MB limit reads "10.1 MB", never "10 MB; the limit is 10 MB".
    return f"{math.ceil(size * 10 / 1_048_576) / 10:.1f}".removesuffix(".0")


def _sniff_format(data: bytes) -> str:
    """The Pillow format name from the magic bytes; the file name and client content type are ignored."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    refused = _refused_format(data)
    if refused:
        raise SURVEY_PROBLEMS("photo.unsupported_format", format=refused)
    raise SURVEY_PROBLEMS("photo.not_an_image")


def _refused_format(data: bytes) -> str | None:
    """Name a picture or document format we recognise but do not accept, so the message can say which."""
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"BM") and len(data) >= 18 and struct.unpack("<I", data[14:18])[0] in _BMP_HEADER_SIZES:
        return "BMP"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if data.startswith(b"%PDF-"):
        return "PDF"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIF_BRANDS:
            return "HEIC"
        if brand in (b"avif", b"avis"):
            return "AVIF"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in head:
        return "SVG"
    return None


def _open_fully(data: bytes, pillow_format: str, max_pixels: int) -> Image.Image:
    """Open with only the sniffed decoder and decode every pixel, refusing bombs before decoding."""
    try:
        # Pillow warns past Image.MAX_IMAGE_PIXELS and raises at twice that; make the warning an error
        # too. catch_warnings is process-wide before Python 3.14, but a race can at worst leave this
        # one filter installed, which is the behaviour we want anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[pillow_format])
            _check_pixels(image.size, max_pixels)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except _DECODE_ERRORS as error:  # includes UnidentifiedImageError and "image file is truncated"
        raise SURVEY_PROBLEMS("photo.corrupt") from error
    return image


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Refuse a picture whose declared size would take too much memory to decode."""
    width, height = size
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)


def _too_many_pixels(max_pixels: int) -> PhotoError:
    return SURVEY_PROBLEMS("photo.too_many_pixels", limit_mp=f"{max_pixels / 1_000_000:g}")


# --- EXIF ------------------------------------------------------------------------------------


class _Exif(NamedTuple):
    """The three EXIF directories we read."""

    main: dict
    exif: dict
    gps: dict


def _read_exif(image: Image.Image) -> _Exif:
    """IFD0, the Exif IFD and the GPS IFD as plain dicts; empty when the EXIF block is broken."""
    try:
        exif = image.getexif()
        return _Exif(dict(exif), dict(exif.get_ifd(ExifTags.IFD.Exif)), dict(exif.get_ifd(ExifTags.IFD.GPSInfo)))
    except _EXIF_ERRORS:
        return _Exif({}, {}, {})


def _orientation(exif: _Exif) -> int:
    """The EXIF Orientation 1-8; 1 (upright) when absent or nonsense."""
    value = exif.main.get(ExifTags.Base.Orientation)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _taken_at(exif: _Exif) -> datetime.datetime | None:
    """When the shutter fired, as the camera wrote it: aware only if the camera wrote an offset."""
    fields = {name: exif.exif.get(getattr(ExifTags.Base, name)) for name in _EXIF_TIME_FIELDS}
    fields["DateTime"] = exif.main.get(ExifTags.Base.DateTime)
    return exif_taken_at(fields)


# Each EXIF time with the offset tags that may describe it, the camera's own first (EXIF 2.31).
_EXIF_TIMES = (
    ("DateTimeOriginal", ("OffsetTimeOriginal", "OffsetTimeDigitized", "OffsetTime")),
    ("DateTimeDigitized", ("OffsetTimeDigitized", "OffsetTimeOriginal", "OffsetTime")),
    ("DateTime", ("OffsetTime",)),
)
_EXIF_TIME_FIELDS = ("DateTimeOriginal", "DateTimeDigitized", "OffsetTimeOriginal", "OffsetTimeDigitized", "OffsetTime")


def exif_taken_at(fields: dict, zone: datetime.tzinfo | None = None) -> datetime.datetime | None:
    """EXIF time tags (by name) as the moment the photo was taken; None when missing or garbage.

    EXIF times are the camera's local clock, never UTC. The camera's own offset wins; without one,
    the time is read in `zone` (the installation's time zone, WIB by default). Without a zone the
    result stays naive, for the caller to place once it knows the zone.
    """
    for time_field, offset_fields in _EXIF_TIMES:
        moment = _parse_exif_datetime(fields.get(time_field))
        if moment is None:
            continue
        for offset_field in offset_fields:
            placed = _with_offset(moment, fields.get(offset_field))
            if placed.tzinfo is not None:
                return placed
        return in_zone(moment, zone)
    return None


def in_zone(moment: datetime.datetime | None, zone: datetime.tzinfo | None) -> datetime.datetime | None:
    """A camera's naive local time placed in `zone`; an aware time (or no zone) is left as it is."""
    if moment is None or moment.tzinfo is not None or zone is None:
        return moment
    return moment.replace(tzinfo=zone)


def _text(value) -> str | None:
    """An EXIF ASCII value as str; cameras pad with NULs and blanks."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else None


def _parse_exif_datetime(value) -> datetime.datetime | None:
    """'2024:05:17 09:30:15' as a naive datetime; None for blank ('    :  :  ...') or impossible dates."""
    match = _EXIF_DATETIME.fullmatch(_text(value) or "")
    if not match:
        return None
    try:
        return datetime.datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _with_offset(moment: datetime.datetime, offset) -> datetime.datetime:
    """Attach an EXIF offset such as '+07:00'; leave the time naive when there is none or it is bad."""
    match = _EXIF_OFFSET.fullmatch(_text(offset) or "")
    if not match:
        return moment
    sign, hours, minutes = match.groups()
    delta = datetime.timedelta(hours=int(hours), minutes=int(minutes))
    if delta > datetime.timedelta(hours=14) or int(minutes) >= 60:  # no real time zone is further out
        return moment
    return moment.replace(tzinfo=datetime.timezone(-delta if sign == "-" else delta))


def _gps(exif: _Exif) -> tuple[float | None, float | None, float | None]:
    """Latitude, longitude and horizontal error in metres; (None, None, None) unless the fix is usable."""
    gps = exif.gps
    if _text(gps.get(ExifTags.GPS.GPSStatus)) == "V":  # "void": the receiver says there is no fix
        return None, None, None
    lat = _coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90)
    lon = _coordinate(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W", 180)
    # Some cameras write 0/0 when they have no fix; nobody audits a facility in the Gulf of Guinea.
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None, None, None
    return lat, lon, _non_negative(gps.get(ExifTags.GPS.GPSHPositioningError))


def _coordinate(dms, ref, positive: str, negative: str, limit: float) -> float | None:
    """Degrees/minutes/seconds rationals plus a hemisphere letter as signed decimal degrees."""
    # Without the reference letter the hemisphere is a guess, and Indonesia straddles the equator.
    hemisphere = (_text(ref) or "").upper()
    if hemisphere not in (positive, negative) or not isinstance(dms, tuple) or len(dms) != 3:
        return None
    parts = [_non_negative(part) for part in dms]
    if None in parts:
        return None
    degrees, minutes, seconds = parts
    if minutes >= 60 or seconds >= 60:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if value > limit:
        return None
    return -value if hemisphere == negative else value


def _non_negative(value) -> float | None:
    """An EXIF rational as a finite float >= 0, else None (a 0 denominator reads as NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


# --- Display copies --------------------------------------------------------------------------


def _render_variants(decoded: _Decoded) -> dict[str, bytes]:
    """The display copy and thumbnail as JPEG bytes: upright, RGB, without EXIF or XMP."""
    display = decoded.image.copy()
    # Shrink before turning upright: the box is square, so the result is the same and cheaper.
    display.thumbnail((DISPLAY_EDGE, DISPLAY_EDGE), Image.Resampling.LANCZOS)
    if decoded.orientation in _UPRIGHT:
        display = display.transpose(_UPRIGHT[decoded.orientation])
    display = _flatten(display)
    thumb = display.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    # Keep the colour profile (wide-gamut phone photos look wrong without it); it carries no
    # personal data, unlike EXIF and XMP, which may hold the position and the device serial.
    icc_profile = decoded.image.info.get("icc_profile")
    return {"display": _jpeg_bytes(display, icc_profile), "thumb": _jpeg_bytes(thumb, icc_profile)}


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparent areas become white rather than black."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _jpeg_bytes(image: Image.Image, icc_profile: bytes | None) -> bytes:
    """Encode as JPEG with no metadata but the colour profile."""
    image.info = {}  # nothing from the source (exif, xmp, comments) may ride along
    buffer = io.BytesIO()
    options = {"icc_profile": icc_profile} if icc_profile else {}
    image.save(buffer, "JPEG", quality=VARIANT_QUALITY, optimize=True, **options)
    return buffer.getvalue()


# --- Storage ---------------------------------------------------------------------------------


def _fault_point(name: str) -> None:
    """Kill-test hook (app.faults); a no-op unless PANTAU_FAULT_POINT is set."""
    faults.point(name)


class PhotoStore:
    """Photos on disk, addressed by the sha256 of their original bytes."""

    def __init__(self, root: Path, *, max_pixels: int = MAX_PIXELS):
        self.root = Path(root)
        self.max_pixels = max_pixels

    def save(self, data: bytes, max_bytes: int, expected_sha256: str | None = None) -> PhotoInfo:
        """Check and store a photo with its display copies; storing the same bytes again writes nothing."""
        decoded = _decode(data, max_bytes, self.max_pixels, expected_sha256)
        info = decoded.info
        original = self._file(info.sha256, "original", info.extension)
        # An existing file that no longer matches its name (disk damage, tampering) is healed here.
        if not (original.exists() and _file_sha256(original) == info.sha256):
            _write_atomic(original, data)
            _fault_point("photo original written")
        self._write_missing_variants(decoded)
        return info

    def save_file(self, data: bytes, max_bytes: int, accept: str = "file",
                  expected_sha256: str | None = None) -> PhotoInfo:
        """Check and store a recording or document (no display copies); the same bytes again write nothing."""
        info = inspect_file(data, max_bytes, accept, expected_sha256)
        original = self._file(info.sha256, "original", next(ext for mime, ext in MEDIA.values() if mime == info.mime))
        if not (original.exists() and _file_sha256(original) == info.sha256):
            _write_atomic(original, data)
        return info

    def save_any(self, data: bytes, max_bytes: int, expected_sha256: str | None = None) -> PhotoInfo:
        """A photo, or else a recording or document: what a peer sends for an audit's photo and file items."""
        try:
            return self.save(data, max_bytes, expected_sha256)
        except PhotoError as error:
            if error.code not in ("photo.not_an_image", "photo.unsupported_format"):
                raise
            try:
                return self.save_file(data, max_bytes, "file", expected_sha256)
            except PhotoError:
                raise error from None

    def ensure_variants(self, sha256: str) -> dict[str, Path]:
        """Rebuild a missing display copy or thumbnail from the original; return every variant's path."""
        original = self.path(sha256)
        if not all(self._file(sha256, variant).exists() for variant in ("display", "thumb")):
            data = original.read_bytes()
            # expected_sha256: never derive what the web serves from an original that was altered.
            self._write_missing_variants(_decode(data, len(data), self.max_pixels, sha256))
        return {"original": original, "display": self._file(sha256, "display"), "thumb": self._file(sha256, "thumb")}

    def path(self, sha256: str, variant: str = "original") -> Path:
        """Where a stored file is; FileNotFoundError if it is not there, ValueError for a bad hash or variant."""
        if variant == "original":
            for extension in _EXTENSIONS:
                candidate = self._file(sha256, variant, extension)
                if candidate.is_file():
                    return candidate
            raise FileNotFoundError(f"no original photo {sha256}")
        candidate = self._file(sha256, variant)
        if not candidate.is_file():
            raise FileNotFoundError(f"no {variant} photo {sha256}")
        return candidate

    def exists(self, sha256: str) -> bool:
        """Whether the original is stored."""
        try:
            self.path(sha256)
        except FileNotFoundError:
            return False
        return True

    def verify(self, sha256: str) -> bool:
        """Whether the stored original still hashes to its name; False when it is missing."""
        try:
            return _file_sha256(self.path(sha256)) == sha256
        except FileNotFoundError:
            return False

    def open_bytes(self, sha256: str, variant: str = "original") -> bytes:
        """The stored bytes of one variant."""
        return self.path(sha256, variant).read_bytes()

    def _file(self, sha256: str, variant: str, extension: str = "jpg") -> Path:
        """The one place a file name is built: the hash and variant are checked, so no path escapes root."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a lowercase sha256 hex digest: {sha256!r}")
        if variant not in VARIANTS:
            raise ValueError(f"unknown photo variant: {variant!r}")
        if extension not in _EXTENSIONS or (variant != "original" and extension != "jpg"):
            raise ValueError(f"bad extension for {variant}: {extension!r}")
        return self.root / variant / sha256[:2] / f"{sha256}.{extension}"

    def _write_missing_variants(self, decoded: _Decoded) -> None:
        """Write the display copy and thumbnail that are not on disk yet."""
        sha256 = decoded.info.sha256
        missing = [variant for variant in ("display", "thumb") if not self._file(sha256, variant).exists()]
        if missing:
            rendered = _render_variants(decoded)
            for variant in missing:
                _write_atomic(self._file(sha256, variant), rendered[variant])


def _file_sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks so a large original does not sit in memory twice."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomic(path: Path, content: bytes) -> None:
    """Write whole or not at all (app.files), in a folder that exists, then make the rename durable."""
    _make_folder(path.parent)
    write_atomic(path, content)
    _fsync_folder(path.parent)


def _make_folder(folder: Path) -> None:
    """Create a folder and its missing parents, making each new directory entry durable."""
    if folder.is_dir():
        return
    _make_folder(folder.parent)
    folder.mkdir(exist_ok=True)
    _fsync_folder(folder.parent)


def _fsync_folder(folder: Path) -> None:
    """Flush a directory so a rename in it survives a power cut (POSIX; Windows cannot open folders)."""
    if os.name != "posix":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
