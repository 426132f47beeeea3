"""Photo evidence: accepted formats, EXIF reading, every refusal by code, and the content-addressed store."""

import datetime
import hashlib
import io
import os
import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, TiffImagePlugin

from survey.photos import MAX_PIXELS, PhotoInfo, PhotoStore, inspect_photo
from survey.problems import PhotoError

MB = 1024 * 1024
LIMIT = 25 * MB
WIB = datetime.timezone(datetime.timedelta(hours=7))


def case(*values, id):
    return pytest.param(*values, id=id)


# --- Building pictures in memory -------------------------------------------------------------


def picture(size=(400, 300), mode="RGB", colour="red") -> Image.Image:
    """A picture whose left half is `colour` and right half blue, so a rotation is visible."""
    image = Image.new("RGB", size, colour)
    image.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    return image.convert(mode)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def camera_exif(orientation=None, taken="2024:05:17 09:30:15", offset="+07:00", modified=None,
                gps=None) -> Image.Exif:
    """EXIF as a tablet camera writes it: IFD0, the Exif IFD and the GPS IFD."""
    exif = Image.Exif()
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if modified:
        exif[ExifTags.Base.DateTime] = modified
    exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    if taken:
        exif_ifd[ExifTags.Base.DateTimeOriginal] = taken
    if offset:
        exif_ifd[ExifTags.Base.OffsetTimeOriginal] = offset
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps)
    return exif


# Kantor Bupati area, Bogor: 6°28'51.2" S, 106°48'36.9" E, 4.5 m horizontal error.
BOGOR_GPS = {
    ExifTags.GPS.GPSLatitudeRef: "S",
    ExifTags.GPS.GPSLatitude: (6.0, 28.0, 51.2),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (106.0, 48.0, 36.9),
    ExifTags.GPS.GPSHPositioningError: 4.5,
}
BOGOR_LAT = -(6 + 28 / 60 + 51.2 / 3600)
BOGOR_LON = 106 + 48 / 60 + 36.9 / 3600


def field_photo(**exif) -> bytes:
    """A JPEG with the date, time zone and GPS position a tablet camera records."""
    return encode(picture(), "JPEG", exif=camera_exif(gps=BOGOR_GPS, **exif))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims a size; it has no pixel data, so only the header is honest."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb_png() -> bytes:
    """A real, complete 10000 x 10000 PNG (100 MP) that compresses to a few kilobytes."""
    return encode(Image.new("1", (10_000, 10_000), 0), "PNG", optimize=True)


@pytest.fixture
def store(tmp_path) -> PhotoStore:
    return PhotoStore(tmp_path / "photos")


# --- Accepted photos -------------------------------------------------------------------------


ACCEPTED = [
    case(lambda: field_photo(), "image/jpeg", (400, 300), id="jpeg-camera"),
    case(lambda: encode(picture(mode="L"), "JPEG"), "image/jpeg", (400, 300), id="jpeg-grey"),
    case(lambda: encode(picture(mode="CMYK"), "JPEG"), "image/jpeg", (400, 300), id="jpeg-cmyk"),
    case(lambda: encode(picture(mode="RGBA"), "PNG"), "image/png", (400, 300), id="png-alpha"),
    case(lambda: encode(picture(mode="P"), "PNG", transparency=0), "image/png", (400, 300), id="png-palette"),
    case(lambda: encode(picture(size=(64, 48), mode="I;16"), "PNG"), "image/png", (64, 48), id="png-16bit"),
    case(lambda: encode(picture(), "WEBP"), "image/webp", (400, 300), id="webp"),
    case(lambda: encode(picture(), "WEBP", lossless=True, exif=camera_exif(orientation=6)),
         "image/webp", (300, 400), id="webp-rotated"),
]


@pytest.mark.parametrize("make, mime, size", ACCEPTED)
def test_accepted_photos_are_described_and_stored(store, make, mime, size):
    data = make()
    info = store.save(data, LIMIT)
    assert (info.mime, (info.width, info.height)) == (mime, size)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.size_bytes == len(data)
    assert store.path(info.sha256).suffix == "." + {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[mime]
    with Image.open(store.path(info.sha256, "display")) as display:
        assert (display.format, display.mode, display.size) == ("JPEG", "RGB", size)


def test_camera_metadata_is_read():
    assert inspect_photo(field_photo(), LIMIT) == PhotoInfo(
        sha256=hashlib.sha256(field_photo()).hexdigest(), size_bytes=len(field_photo()),
        mime="image/jpeg", width=400, height=300,
        taken_at=datetime.datetime(2024, 5, 17, 9, 30, 15, tzinfo=WIB),
        gps_lat=pytest.approx(BOGOR_LAT), gps_lon=pytest.approx(BOGOR_LON), gps_accuracy_m=4.5)


TAKEN_AT = [
    case({}, datetime.datetime(2024, 5, 17, 9, 30, 15, tzinfo=WIB), id="original-with-offset"),
    case({"offset": None}, datetime.datetime(2024, 5, 17, 9, 30, 15), id="no-offset-stays-naive"),
    case({"offset": "-03:30"},
         datetime.datetime(2024, 5, 17, 9, 30, 15, tzinfo=datetime.timezone(-datetime.timedelta(hours=3, minutes=30))),
         id="negative-offset"),
    case({"offset": "+99:00"}, datetime.datetime(2024, 5, 17, 9, 30, 15), id="nonsense-offset-ignored"),
    case({"taken": None, "offset": None, "modified": "2023:12:31 23:59:59"},
         datetime.datetime(2023, 12, 31, 23, 59, 59), id="falls-back-to-datetime"),
    case({"taken": "    :  :     :  :  ", "offset": None}, None, id="blank-date"),
    case({"taken": "2024:02:30 10:00:00"}, None, id="impossible-date"),
    case({"taken": None, "offset": None}, None, id="no-date"),
]


@pytest.mark.parametrize("exif, expected", TAKEN_AT)
def test_taken_at(exif, expected):
    assert inspect_photo(encode(picture(), "JPEG", exif=camera_exif(**exif)), LIMIT).taken_at == expected


def gps_with(**changes):
    """BOGOR_GPS with some tags replaced (by name) or removed (None)."""
    tags = dict(BOGOR_GPS)
    for name, value in changes.items():
        tag = ExifTags.GPS[name]
        if value is None:
            tags.pop(tag)
        else:
            tags[tag] = value
    return tags


GPS = [
    case(BOGOR_GPS, (BOGOR_LAT, BOGOR_LON, 4.5), id="south-east"),
    case(gps_with(GPSLatitudeRef="N", GPSLongitudeRef="W"), (-BOGOR_LAT, -BOGOR_LON, 4.5), id="north-west"),
    case(gps_with(GPSHPositioningError=None), (BOGOR_LAT, BOGOR_LON, None), id="no-accuracy"),
    case(gps_with(GPSStatus="A"), (BOGOR_LAT, BOGOR_LON, 4.5), id="status-active"),
    case(gps_with(GPSStatus="V"), (None, None, None), id="status-void"),
    case(gps_with(GPSLatitude=(91.0, 0.0, 0.0)), (None, None, None), id="latitude-over-90"),
    case(gps_with(GPSLongitude=(181.0, 0.0, 0.0)), (None, None, None), id="longitude-over-180"),
    case(gps_with(GPSLatitude=(6.0, 75.0, 0.0)), (None, None, None), id="minutes-over-60"),
    case(gps_with(GPSLatitude=(TiffImagePlugin.IFDRational(6, 0), 0.0, 0.0)), (None, None, None),
         id="zero-denominator"),
    case(gps_with(GPSLatitudeRef=None), (None, None, None), id="no-hemisphere"),
    case(gps_with(GPSLatitudeRef="X"), (None, None, None), id="bad-hemisphere"),
    case(gps_with(GPSLongitude=None), (None, None, None), id="latitude-only"),
    case(gps_with(GPSLatitude=(0.0, 0.0, 0.0), GPSLongitude=(0.0, 0.0, 0.0)), (None, None, None),
         id="null-island"),
]


@pytest.mark.parametrize("gps, expected", GPS)
def test_gps(gps, expected):
    info = inspect_photo(encode(picture(), "JPEG", exif=camera_exif(gps=gps)), LIMIT)
    assert (info.gps_lat, info.gps_lon, info.gps_accuracy_m) == pytest.approx(expected)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow says so, and carries on: so do we
def test_broken_exif_means_no_metadata_not_a_refusal():
    data = encode(picture(), "JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\xff garbage")
    info = inspect_photo(data, LIMIT)
    assert (info.taken_at, info.gps_lat, info.width) == (None, None, 400)


def test_orientation_swaps_size_and_turns_the_display_copy(store):
    info = store.save(encode(picture(), "JPEG", exif=camera_exif(orientation=6)), LIMIT)
    assert (info.width, info.height) == (300, 400)
    with Image.open(store.path(info.sha256, "display")) as display:
        assert display.size == (300, 400)
        # Orientation 6 means "turn 90° clockwise to view": the red left half ends up on top.
        red, green, blue = display.getpixel((150, 20))
        assert red > 200 and blue < 60
        red, green, blue = display.getpixel((150, 380))
        assert blue > 200 and red < 60
        assert ExifTags.Base.Orientation not in display.getexif()


# --- Refusals --------------------------------------------------------------------------------


def truncated_jpeg() -> bytes:
    data = encode(Image.effect_noise((640, 480), 64).convert("RGB"), "JPEG")
    return data[: len(data) // 2]


def png_with_bad_crc() -> bytes:
    data = bytearray(encode(picture(), "PNG"))
    data[29] ^= 0xFF  # inside the IHDR CRC
    return bytes(data)


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64)

REFUSED = [
    case(lambda: b"", {}, "photo.empty", id="empty"),
    case(lambda: random.Random(7).randbytes(4096), {}, "photo.not_an_image", id="random-bytes"),
    case(lambda: b"Laporan audit RBRA Kecamatan Cibinong\n" * 20, {}, "photo.not_an_image", id="text"),
    case(lambda: b"BMW and other words that start with BM\n", {}, "photo.not_an_image", id="text-starting-bm"),
    case(lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", {}, "photo.unsupported_format", id="pdf"),
    case(lambda: encode(picture(), "GIF"), {}, "photo.unsupported_format", id="gif"),
    case(lambda: encode(picture(), "BMP"), {}, "photo.unsupported_format", id="bmp"),
    case(lambda: encode(picture(), "TIFF"), {}, "photo.unsupported_format", id="tiff"),
    case(lambda: SVG, {}, "photo.unsupported_format", id="svg"),
    case(lambda: HEIC, {}, "photo.unsupported_format", id="heic"),
    case(lambda: AVIF, {}, "photo.unsupported_format", id="avif"),
    case(truncated_jpeg, {}, "photo.corrupt", id="truncated-jpeg"),
    case(lambda: b"\xff\xd8\xff\xe0" + bytes(200), {}, "photo.corrupt", id="jpeg-magic-then-zeros"),
    case(lambda: encode(picture(), "PNG")[:-40], {}, "photo.corrupt", id="truncated-png"),
    case(png_with_bad_crc, {}, "photo.corrupt", id="png-bad-crc"),
    case(lambda: encode(picture(), "WEBP")[:60], {}, "photo.corrupt", id="truncated-webp"),
    case(lambda: field_photo(), {"max_bytes": 1000}, "photo.too_large", id="too-large"),
    case(lambda: png_declaring(50_000, 50_000), {}, "photo.too_many_pixels", id="declares-2500-mp"),
    case(lambda: png_declaring(10_000, 9_500), {}, "photo.too_many_pixels", id="declares-95-mp"),
    case(lambda: png_declaring(8_000, 8_000), {}, "photo.too_many_pixels", id="declares-64-mp"),
    case(lambda: encode(picture(), "PNG"), {"max_pixels": 100_000}, "photo.too_many_pixels", id="over-own-limit"),
    case(lambda: field_photo(), {"expected_sha256": "0" * 64}, "photo.hash_mismatch", id="hash-mismatch"),
]


@pytest.mark.parametrize("make, options, code", REFUSED)
def test_refused(make, options, code, recwarn):
    options = {"max_bytes": LIMIT, **options}
    with pytest.raises(PhotoError) as refused:
        inspect_photo(make(), **options)
    assert refused.value.code == code
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_real_decompression_bomb_is_refused_before_decoding(bomb_png, store):
    assert len(bomb_png) < 100_000
    with pytest.raises(PhotoError) as refused:
        store.save(bomb_png, LIMIT)
    assert refused.value.code == "photo.too_many_pixels"
    assert refused.value.params == {"limit_mp": f"{MAX_PIXELS / 1_000_000:g}"}
    assert not (store.root / "original").exists()


def test_messages_and_params():
    with pytest.raises(PhotoError) as refused:
        inspect_photo(bytes(3 * MB), max_bytes=2 * MB)
    assert (refused.value.status, refused.value.params) == (413, {"size_mb": "3", "limit_mb": "2"})
    with pytest.raises(PhotoError) as refused:
        inspect_photo(bytes(10 * MB + 1), max_bytes=10 * MB)
    assert refused.value.params == {"size_mb": "10.1", "limit_mb": "10"}
    with pytest.raises(PhotoError) as refused:
        inspect_photo(encode(picture(), "GIF"), LIMIT)
    assert refused.value.params == {"format": "GIF"}
    assert "%(format)s" in refused.value.message and refused.value.status == 422
    with pytest.raises(PhotoError) as refused:
        inspect_photo(b"hello", LIMIT)
    assert refused.value.message == "This file is not a photo. Choose a JPEG, PNG or WebP picture."


@pytest.mark.parametrize("offset, expected", [
    case("+07:00", datetime.datetime(2024, 5, 17, 9, 30, 15, tzinfo=WIB), id="camera-offset-wins"),
    case(None, datetime.datetime(2024, 5, 17, 9, 30, 15, tzinfo=datetime.timezone(datetime.timedelta(hours=9))),
         id="assumed-zone-for-naive"),
])
def test_taken_at_aware(offset, expected):
    wit = datetime.timezone(datetime.timedelta(hours=9))
    assert inspect_photo(field_photo(offset=offset), LIMIT).taken_at_aware(wit) == expected
    assert inspect_photo(field_photo(taken=None), LIMIT).taken_at_aware(wit) is None


def test_expected_hash_is_accepted_in_either_case():
    data = field_photo()
    digest = hashlib.sha256(data).hexdigest()
    assert inspect_photo(data, LIMIT, expected_sha256=digest.upper()).sha256 == digest


# --- The store -------------------------------------------------------------------------------


def stored_files(root: Path) -> dict[str, int]:
    """Every file under root (temp files included) with its mtime."""
    return {str(path.relative_to(root)): path.stat().st_mtime_ns for path in root.rglob("*") if path.is_file()}


def test_layout_is_content_addressed(store):
    data = field_photo()
    info = store.save(data, LIMIT)
    digest = hashlib.sha256(data).hexdigest()
    assert info.sha256 == digest
    assert set(stored_files(store.root)) == {
        f"original/{digest[:2]}/{digest}.jpg",
        f"display/{digest[:2]}/{digest}.jpg",
        f"thumb/{digest[:2]}/{digest}.jpg",
    }
    assert store.open_bytes(digest) == data
    assert store.exists(digest) and store.verify(digest)


def test_saving_again_writes_nothing(store):
    data = field_photo()
    first = store.save(data, LIMIT)
    before = stored_files(store.root)
    assert store.save(data, LIMIT) == first
    assert stored_files(store.root) == before


def test_display_copy_and_thumbnail_are_small_and_private(store):
    big = encode(picture(size=(4000, 3000)), "JPEG", exif=camera_exif(gps=BOGOR_GPS),
                 xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>6,28S</exif:GPSLatitude></x:xmpmeta>')
    info = store.save(big, LIMIT)
    assert info.gps_lat == pytest.approx(BOGOR_LAT)
    for variant, edge in (("display", 1280), ("thumb", 320)):
        with Image.open(store.path(info.sha256, variant)) as copy:
            assert max(copy.size) == edge and copy.size == (edge, edge * 3 // 4)
            assert copy.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
            assert "exif" not in copy.info and "xmp" not in copy.info
    with Image.open(store.path(info.sha256)) as original:  # the evidence itself keeps its position
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_small_photos_are_not_enlarged(store):
    info = store.save(encode(picture(size=(200, 100)), "PNG"), LIMIT)
    with Image.open(store.path(info.sha256, "display")) as display:
        assert display.size == (200, 100)


def test_colour_profile_is_kept_in_the_display_copy(store):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    info = store.save(encode(picture(), "JPEG", icc_profile=srgb), LIMIT)
    with Image.open(store.path(info.sha256, "display")) as display:
        assert display.info.get("icc_profile") == srgb


def test_transparent_png_becomes_white_not_black(store):
    image = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    info = store.save(encode(image, "PNG"), LIMIT)
    with Image.open(store.path(info.sha256, "display")) as display:
        assert min(display.getpixel((25, 25))) > 245


def test_refused_photo_leaves_nothing_behind(store):
    with pytest.raises(PhotoError):
        store.save(field_photo(), LIMIT, expected_sha256="f" * 64)
    assert not store.root.exists() or stored_files(store.root) == {}


def test_expected_hash_accepted_by_save(store):
    data = field_photo()
    digest = hashlib.sha256(data).hexdigest()
    assert store.save(data, LIMIT, expected_sha256=digest).sha256 == digest


BAD_HASHES = [
    case("../../etc/passwd", id="traversal"),
    case("../" * 21 + "a", id="traversal-64-chars"),
    case("AB" * 32, id="uppercase"),
    case("ab" * 31, id="short"),
    case("ab" * 33, id="long"),
    case("ab" * 32 + "\n", id="trailing-newline"),
    case("g" * 64, id="not-hex"),
    case("", id="empty"),
    case(None, id="none"),
]


@pytest.mark.parametrize("sha256", BAD_HASHES)
@pytest.mark.parametrize("call", [
    lambda store, sha: store.path(sha),
    lambda store, sha: store.path(sha, "display"),
    lambda store, sha: store.exists(sha),
    lambda store, sha: store.verify(sha),
    lambda store, sha: store.open_bytes(sha),
    lambda store, sha: store.ensure_variants(sha),
], ids=["path", "path-display", "exists", "verify", "open_bytes", "ensure_variants"])
def test_bad_hashes_are_rejected(store, call, sha256):
    with pytest.raises(ValueError):
        call(store, sha256)


@pytest.mark.parametrize("variant", ["../original", "Display", "raw", ""])
def test_unknown_variants_are_rejected(store, variant):
    with pytest.raises(ValueError):
        store.path("ab" * 32, variant)


def test_missing_photo(store):
    missing = "ab" * 32
    assert not store.exists(missing) and not store.verify(missing)
    for variant in ("original", "display", "thumb"):
        with pytest.raises(FileNotFoundError):
            store.path(missing, variant)
    with pytest.raises(FileNotFoundError):
        store.open_bytes(missing)
    with pytest.raises(FileNotFoundError):
        store.ensure_variants(missing)


def test_verify_detects_a_tampered_original_and_saving_again_heals_it(store):
    data = field_photo()
    info = store.save(data, LIMIT)
    original = store.path(info.sha256)
    original.write_bytes(data[:-1] + b"\x00")
    assert store.exists(info.sha256) and not store.verify(info.sha256)
    store.save(data, LIMIT)
    assert store.verify(info.sha256)


@pytest.mark.parametrize("lost", [("display",), ("thumb",), ("display", "thumb")])
def test_ensure_variants_rebuilds_missing_copies(store, lost):
    info = store.save(encode(picture(), "WEBP", exif=camera_exif(orientation=8)), LIMIT)
    expected = {variant: store.open_bytes(info.sha256, variant) for variant in ("display", "thumb")}
    for variant in lost:
        store.path(info.sha256, variant).unlink()
    paths = store.ensure_variants(info.sha256)
    assert paths == {variant: store.path(info.sha256, variant) for variant in ("original", "display", "thumb")}
    assert {variant: paths[variant].read_bytes() for variant in expected} == expected
    before = stored_files(store.root)
    assert store.ensure_variants(info.sha256) == paths
    assert stored_files(store.root) == before


def test_ensure_variants_refuses_a_tampered_original(store):
    info = store.save(field_photo(), LIMIT)
    store.path(info.sha256, "thumb").unlink()
    store.path(info.sha256).write_bytes(encode(picture(colour="green"), "JPEG"))
    with pytest.raises(PhotoError) as refused:
        store.ensure_variants(info.sha256)
    assert refused.value.code == "photo.hash_mismatch"


def test_a_crash_mid_write_leaves_no_file_under_the_final_name(store, monkeypatch):
    def power_cut(source, target):
        raise OSError("power cut")
    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError, match="power cut"):
        store.save(field_photo(), LIMIT)
    assert stored_files(store.root) == {}


def test_leftover_temp_files_are_ignored(store):
    data = field_photo()
    digest = hashlib.sha256(data).hexdigest()
    folder = store.root / "original" / digest[:2]
    folder.mkdir(parents=True)
    (folder / f".{digest}.jpg.x1y2z3.tmp").write_bytes(data[:100])  # what a crash leaves behind
    assert not store.exists(digest)
    info = store.save(data, LIMIT)
    assert store.path(digest).name == f"{digest}.jpg" and store.verify(digest)
    assert info.sha256 == digest
