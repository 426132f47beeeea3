"""File items' uploads: recordings, videos and documents recognised by their first bytes, refused otherwise."""

from __future__ import annotations

import hashlib

import pytest

from survey.photos import PhotoStore, inspect_file, is_picture, sniff_media
from survey.problems import PhotoError
from tests.support import make_jpeg

LIMIT = 1 << 20


@pytest.mark.parametrize("data, kind", [
    (b"ID3\x04\x00" + b"\x00" * 40, "mp3"),
    (b"\xff\xfb\x90\x00" + b"\x00" * 40, "mp3"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 30, "wav"),
    (b"OggS\x00\x02" + b"\x00" * 40, "ogg"),
    (b"#!AMR\n" + b"\x00" * 40, "amr"),
    (b"fLaC\x00\x00\x00\x22" + b"\x00" * 40, "flac"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + b"\x00" * 30, "m4a"),
    (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00" + b"\x00" * 30, "mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00" + b"\x00" * 30, "mov"),
    (b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00" + b"\x00" * 30, "3gp"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86" + b"\x00" * 40, "webm"),
    (b"%PDF-1.7\n" + b"\x00" * 40, "pdf"),
    (b"PK\x03\x04\x14\x00" + b"\x00" * 40, "zip"),
    (b"<?xml version='1.0'?>\n<osm version='0.6'><node id='1'/></osm>", "osm"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + b"\x00" * 30, None),  # a HEIC photo is no recording
    (b"catatan biasa\n", None),  # plain text is never taken: the photo door is no free file store
    (b"<html><script>alert(1)</script></html>", None),
    (make_jpeg(), None),
], ids=["mp3 id3", "mp3 frame", "wav", "ogg", "amr", "flac", "m4a", "mp4", "mov", "3gp", "webm", "pdf", "zip",
        "osm", "heic", "text", "html", "jpeg"])
def test_kinds_by_their_first_bytes(data, kind):
    assert sniff_media(data) == kind


@pytest.mark.parametrize("accept, data, code", [
    ("audio", b"%PDF-1.7\n" + b"\x00" * 40, "file.not_audio"),
    ("video", b"ID3\x04" + b"\x00" * 40, "file.not_video"),
    ("osm", b"%PDF-1.7\n", "file.not_osm"),
    ("file", b"just text\n", "file.unknown_kind"),
    ("file", b"", "file.empty"),
    ("file", b"%PDF-" + b"\x00" * (LIMIT + 1), "photo.too_large"),
])
def test_refusals_name_what_the_item_takes(accept, data, code):
    with pytest.raises(PhotoError) as raised:
        inspect_file(data, LIMIT, accept)
    assert raised.value.code == code


def test_a_recording_is_stored_by_hash_without_display_copies(tmp_path):
    store = PhotoStore(tmp_path)
    data = b"ID3\x04\x00" + bytes(range(200))
    info = store.save_file(data, LIMIT, "audio")
    assert (info.sha256, info.mime, info.width) == (hashlib.sha256(data).hexdigest(), "audio/mpeg", 0)
    assert store.path(info.sha256).suffix == ".mp3" and store.verify(info.sha256)
    assert not is_picture(info.mime) and is_picture("image/jpeg")
    assert store.save_file(data, LIMIT, "audio") == info  # the same bytes again write nothing new


def test_a_peer_sends_photos_and_recordings_through_one_door(tmp_path):
    store = PhotoStore(tmp_path)
    recording = b"OggS\x00\x02" + bytes(100)
    assert store.save_any(recording, LIMIT, hashlib.sha256(recording).hexdigest()).mime == "audio/ogg"
    assert store.save_any(make_jpeg(), LIMIT).mime == "image/jpeg"
    with pytest.raises(PhotoError) as raised:
        store.save_any(b"not a photo, not a recording", LIMIT)
    assert raised.value.code == "photo.not_an_image"  # the photo's refusal, as before
