"""When a photo was taken: EXIF times are the camera's local clock, placed by its offset or the installation's zone."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from survey.photos import exif_taken_at, in_zone
from tests.support import make_jpeg

JAKARTA = ZoneInfo("Asia/Jakarta")
UTC = datetime.timezone.utc


def case(*values, id):
    return pytest.param(*values, id=id)


def utc(*parts) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=UTC)


EXIF_TIMES = [
    # (EXIF tags by name, the moment in UTC or None)
    case({"DateTimeOriginal": "2026:12:06 10:00:00"}, utc(2026, 12, 6, 3, 0), id="no-offset-read-in-WIB"),
    case({"DateTimeOriginal": "2026:12:06 10:00:00", "OffsetTimeOriginal": "+08:00"}, utc(2026, 12, 6, 2, 0),
         id="camera-offset-WITA"),
    case({"DateTimeOriginal": "2026:12:06 10:00:00", "OffsetTimeOriginal": "+00:00"}, utc(2026, 12, 6, 10, 0),
         id="camera-offset-UTC"),
    case({"DateTimeOriginal": "2026:12:06 10:00:00", "OffsetTimeOriginal": "-03:30"}, utc(2026, 12, 6, 13, 30),
         id="negative-offset"),
    case({"DateTimeOriginal": "2026:12:06 10:00:00", "OffsetTimeDigitized": "+09:00"}, utc(2026, 12, 6, 1, 0),
         id="digitized-offset-when-original-offset-missing"),
    case({"DateTimeOriginal": "2026:12:06 10:00:00", "OffsetTime": "+09:00"}, utc(2026, 12, 6, 1, 0),
         id="file-offset-as-last-resort"),
    case({"DateTimeOriginal": b"2026:12:06 10:00:00\x00", "OffsetTimeOriginal": b"+07:00\x00"},
         utc(2026, 12, 6, 3, 0), id="bytes-with-nul-padding"),
    case({"DateTimeOriginal": "2026:12:06 10:00:00", "OffsetTimeOriginal": "+25:00"}, utc(2026, 12, 6, 3, 0),
         id="impossible-offset-ignored"),
    case({"DateTimeOriginal": "2026:12:06 10:00:00", "OffsetTimeOriginal": "   :  "}, utc(2026, 12, 6, 3, 0),
         id="blank-offset-ignored"),
    case({"DateTimeOriginal": "garbage", "DateTime": "2026:12:06 11:00:00"}, utc(2026, 12, 6, 4, 0),
         id="garbage-original-falls-back-to-file-time"),
    case({"DateTimeDigitized": "2026:12:06 10:30:00"}, utc(2026, 12, 6, 3, 30), id="digitized-time"),
    case({"DateTimeOriginal": "2026:02:30 10:00:00"}, None, id="impossible-date"),
    case({"DateTimeOriginal": "    :  :     :  :  "}, None, id="blank-time"),
    case({"DateTimeOriginal": 20261206}, None, id="not-text"),
    case({"OffsetTimeOriginal": "+07:00"}, None, id="offset-without-time"),
    case({}, None, id="missing"),
]


@pytest.mark.parametrize("fields, expected", EXIF_TIMES)
def test_exif_time_is_an_aware_instant(fields, expected):
    taken = exif_taken_at(fields, JAKARTA)
    assert taken == expected
    if taken is not None:
        assert taken.tzinfo is not None


def test_without_a_zone_the_camera_time_stays_naive_until_placed():
    naive = exif_taken_at({"DateTimeOriginal": "2026:12:06 10:00:00"})
    assert naive == datetime.datetime(2026, 12, 6, 10, 0) and naive.tzinfo is None
    assert in_zone(naive, JAKARTA) == utc(2026, 12, 6, 3, 0)
    aware = exif_taken_at({"DateTimeOriginal": "2026:12:06 10:00:00", "OffsetTimeOriginal": "+08:00"})
    assert in_zone(aware, JAKARTA) == aware  # the camera's own offset is never replaced


@pytest.mark.parametrize("offset, expected", [
    case(None, utc(2026, 12, 6, 3, 0), id="without-offset"),
    case("+08:00", utc(2026, 12, 6, 2, 0), id="with-offset"),
])
def test_a_jpeg_from_the_test_camera(offset, expected):
    from survey.photos import inspect_photo

    info = inspect_photo(make_jpeg(exif_time="2026:12:06 10:00:00", exif_offset=offset), 10 * 1024 * 1024)
    assert info.taken_at_aware(JAKARTA) == expected
