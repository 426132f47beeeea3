"""The sync door against hostile input: a table of requests and bundles no honest device sends, each
refused with its status and stable code, the database and the photo store unchanged, on SQLite and
PostgreSQL. Then what must be *accepted* (text that looks like markup or a format string, stored as
text), and the memory a gzip bomb or a zip bomb may cost (a few MiB, never what it unpacks to).

Each row mutates one thing of a valid push (tablet-1's checklist change and audit, tests/sync_corpus.py)
or of a valid bundle, so the row fails for its own reason only.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import io
import json
import struct
import tracemalloc
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import select

from app.cli_support import write_transaction
from app.extensions import db
from survey.audits.models import Answer, Audit
from survey.photos import PhotoStore
from sync import api, service
from sync.problems import SyncError
from sync.schemas import MAX_ANSWERS
from tests.support import fresh_postgres_database
from tests.sync_corpus import MiB, ValidBundle, pack, photo_files, relist, resign, unpack
from tests.test_sync_api import (API, Tablet, error_code, photo_root, push_body, register, state, tablet,  # noqa: F401
                                 valid)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_config(request, tmp_path):
    """A kota hub, on SQLite and on its own fresh PostgreSQL database."""
    config = {"INSTANCE_PATH": str(tmp_path / "hub"), "ROLE": "hub", "SECRET_KEY": "x" * 32, "TESTING": True}
    if request.param == "sqlite":
        yield config
        return
    for url in fresh_postgres_database():
        yield {**config, "DATABASE_URL": url}


# --- building hostile pushes -------------------------------------------------------------------------------


def body(v: ValidBundle) -> dict:
    """The valid push as plain JSON data: [checklist change, audit change]."""
    return copy.deepcopy(push_body(v.entries()))


def audit_payload(data: dict) -> dict:
    return data["entries"][1]["change"]["payload"]


def edit(change: Callable[[dict], None]) -> Callable[[ValidBundle], dict]:
    """A push body with one edit made to the valid one."""
    def make(v: ValidBundle) -> dict:
        data = body(v)
        change(data)
        return data
    return make


def audit_edit(**fields) -> Callable[[ValidBundle], dict]:
    return edit(lambda data: audit_payload(data).update(fields))


def answer_edit(**fields) -> Callable[[ValidBundle], dict]:
    """The first answer of the audit with these fields."""
    def change(data):
        answers = audit_payload(data)["answers"]
        answers[next(iter(answers))].update(fields)
    return edit(change)


def envelope_edit(index: int = 1, **fields) -> Callable[[ValidBundle], dict]:
    return edit(lambda data: data["entries"][index]["change"].update(fields))


def facility_push(v: ValidBundle, seq: int = 1, **fields) -> dict:
    """A facility edit by tablet-1 (a valid shape), with some payload fields replaced."""
    change = {"origin_id": v.device_id, "origin_seq": seq, "kind": "facility", "entity_id": v.facility_id,
              "hlc": f"0001795000000000.{seq:04d}", "scope": "36.73.01",
              "payload": {"facility_id": v.facility_id, "fields": {"name": "Taman Bermain RW 02"}, "base": {}}}
    change["payload"].update(fields)
    return {"after": seq - 1, "up_to": seq, "entries": [{"local_seq": seq, "change": change}]}


def checklist_edit(content: Callable[[str], str] | None = None, rehash: bool = True, **fields):
    """The checklist change with its content rewritten (and its sha256 made to match, unless told not to)."""
    def change(data):
        payload = data["entries"][0]["change"]["payload"]
        if content:
            payload["content"] = content(payload["content"])
            if rehash:
                payload["sha256"] = hashlib.sha256(payload["content"].encode()).hexdigest()
        payload.update(fields)
        data["entries"][0]["change"]["entity_id"] = payload["key"]
        data["entries"][1]["change"]["payload"]["checklist_key"] = payload["key"]
    return edit(change)


USER_ID = "7d0c4b8e-2f57-4c8e-9a4f-2d5c1b9e6a10"


def one_change(v: ValidBundle, kind: str, entity_id: str, payload: dict) -> dict:
    """A batch of one change of any kind from tablet-1."""
    change = {"origin_id": v.device_id, "origin_seq": 1, "kind": kind, "entity_id": entity_id,
              "hlc": "0001795000000000.0001", "scope": "36.73.01", "payload": payload}
    return {"after": 0, "up_to": 1, "entries": [{"local_seq": 1, "change": change}]}


def raw(text: Callable[[ValidBundle], str]) -> Callable[[ValidBundle], bytes]:
    """A body sent as these exact bytes (for what json.dumps would never write)."""
    return lambda v: text(v).encode("utf-8", "surrogatepass")


def with_answer_text(v: ValidBundle, literal: str) -> str:
    """The valid push as JSON text with the first answer's value replaced by a JSON literal."""
    data = body(v)
    answers = audit_payload(data)["answers"]
    answers[next(iter(answers))]["value"] = "@@VALUE@@"
    return json.dumps(data).replace('"@@VALUE@@"', literal)


def gzip_bomb(size: int = 320 * MiB) -> bytes:
    """`size` bytes of spaces, gzipped a MiB at a time (about 1000:1): a few hundred KiB on the wire."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk, parts = b" " * MiB, []
    for _ in range(size // MiB):
        parts.append(deflater.compress(chunk))
    parts.append(deflater.flush())
    return b"".join(parts)


DEEP = 100_000  # brackets: far past any recursion limit


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str
    make: Callable[[ValidBundle], object] | None  # dict (sent as JSON), bytes (sent as is) or None
    status: int
    code: str
    headers: tuple = ()


PUSH, PULL = f"{API}/push", f"{API}/pull"
NOT_A_DATE = "kemarin sore"

ROWS = [
    # the batch's own fields
    Row("after as a string", "POST", PUSH, edit(lambda d: d.update(after="0")), 400, "sync.bad_request"),
    Row("after as a float", "POST", PUSH, edit(lambda d: d.update(after=0.0)), 400, "sync.bad_request"),
    Row("up_to 10^30", "POST", PUSH, edit(lambda d: d.update(up_to=10 ** 30)), 400, "sync.bad_request"),
    Row("an unknown field in the batch", "POST", PUSH, edit(lambda d: d.update(admin=True)), 400, "sync.bad_request"),
    Row("more entries than a batch may hold", "POST", PUSH,
        edit(lambda d: d.update(entries=d["entries"][:1] * 2001)), 422, "sync.bad_change"),
    # the change envelope
    Row("origin_seq 10^30", "POST", PUSH, envelope_edit(origin_seq=10 ** 30), 422, "sync.bad_change"),
    Row("origin_seq true", "POST", PUSH, envelope_edit(origin_seq=True), 422, "sync.bad_change"),
    Row("local_seq as a string", "POST", PUSH, edit(lambda d: d["entries"][1].update(local_seq="2")), 422,
        "sync.bad_change"),
    Row("hlc in the year 10000", "POST", PUSH, envelope_edit(hlc="9999999999999999.0000"), 422, "sync.bad_change"),
    Row("hlc in Arabic-Indic digits", "POST", PUSH, envelope_edit(hlc="\u0661" * 16 + ".0000"), 422,
        "sync.bad_change"),
    Row("entity_id other than the audit's id", "POST", PUSH, envelope_edit(entity_id=str(uuid.uuid4())), 422,
        "sync.bad_change"),
    Row("kind Audit, capitalised", "POST", PUSH, envelope_edit(kind="Audit"), 422, "sync.bad_change"),
    Row("scope with a control character", "POST", PUSH, envelope_edit(scope="36.73.01\x1b"), 422, "sync.bad_change"),
    Row("origin_id as a uuid in braces", "POST", PUSH, lambda v: envelope_edit(origin_id="{%s}" % v.device_id)(v), 422,
        "sync.bad_change"),
    # the audit
    Row("audit id not a uuid", "POST", PUSH, edit(lambda d: (audit_payload(d).update(id="audit-1"),
                                                             d["entries"][1]["change"].update(entity_id="audit-1"))),
        422, "sync.bad_change"),
    Row("facility_id not a uuid", "POST", PUSH, audit_edit(facility_id="' OR 1=1 --"), 422, "sync.bad_change"),
    Row("submitted_at not a date", "POST", PUSH, audit_edit(submitted_at=NOT_A_DATE), 422, "sync.bad_change"),
    Row("started_at on the 45th of the 13th month", "POST", PUSH, audit_edit(started_at="2026-13-45T02:00:00+00:00"),
        422, "sync.bad_change"),
    Row("revision 10^30", "POST", PUSH, audit_edit(revision=10 ** 30), 422, "sync.bad_change"),
    Row("revision as a string", "POST", PUSH, audit_edit(revision="1"), 422, "sync.bad_change"),
    Row("score as a string", "POST", PUSH, audit_edit(score="1.0"), 422, "sync.bad_change"),
    Row("score 1e400 (infinite)", "POST", PUSH, raw(lambda v: json.dumps(body(v)).replace('"score": 1.0', '"score": 1e400')),
        422, "sync.bad_change"),
    Row("lat 91", "POST", PUSH, audit_edit(lat=91.0), 422, "sync.bad_change"),
    Row("lon -181", "POST", PUSH, audit_edit(lon=-181.0), 422, "sync.bad_change"),
    Row("accuracy -1 m", "POST", PUSH, audit_edit(accuracy_m=-1.0), 422, "sync.bad_change"),
    Row("auditor with a newline", "POST", PUSH, audit_edit(auditor="siti\nadmin"), 422, "sync.bad_change"),
    Row("a GPS warning that is markup", "POST", PUSH, audit_edit(position_warnings=["<b onmouseover=x>"]), 422,
        "sync.bad_change"),
    Row("an unknown audit field __class__", "POST", PUSH, audit_edit(__class__="Audit"), 422, "sync.bad_change"),
    Row("a reading taken at no date", "POST", PUSH,
        edit(lambda d: audit_payload(d)["readings"][0].update(taken_at=NOT_A_DATE)), 422, "sync.bad_change"),
    Row("a reading whose id is not a uuid", "POST", PUSH,
        edit(lambda d: audit_payload(d)["readings"][0].update(id="r1")), 422, "sync.bad_change"),
    Row("51 photos on one item", "POST", PUSH,
        edit(lambda d: audit_payload(d)["photos"].update(
            {k: [hashlib.sha256(bytes([n])).hexdigest() for n in range(51)] for k in audit_payload(d)["photos"]})),
        422, "sync.bad_change"),
    Row(f"{MAX_ANSWERS + 1} answers", "POST", PUSH,
        edit(lambda d: audit_payload(d).update(
            answers={f"q{n}": {"value": "ya", "note": None} for n in range(MAX_ANSWERS + 1)})),
        422, "sync.bad_change"),
    *(Row(f"an answer under the address {address!r}", "POST", PUSH,
          edit(lambda d, a=address: audit_payload(d)["answers"].update({a: {"value": "ya", "note": None}})),
          422, "sync.bad_change")
      for address in ("alat[0]/kondisi", "alat[1]", "alat[1]//x", "../x", "a[1]/b[1]/c[1]/d[1]/e", "A[1]/x",
                      "alat[99999]/x")),
    *(Row(f"an answer at {address!r}, which the checklist does not have", "POST", PUSH,
          edit(lambda d, a=address: audit_payload(d)["answers"].update({a: {"value": "ya", "note": None}})),
          422, "sync.bad_address")
      for address in ("alat[1]/kondisi", "tidak_ada_pertanyaan_ini", "alat")),
    # answers
    Row("an answer that is a JSON object", "POST", PUSH, answer_edit(value={"$gt": ""}), 422, "sync.bad_change"),
    Row("an answer that is a list of lists", "POST", PUSH, answer_edit(value=[["ya"]]), 422, "sync.bad_change"),
    Row("an answer nested 150 deep", "POST", PUSH, raw(lambda v: with_answer_text(v, "[" * 150 + "]" * 150)), 422,
        "sync.bad_change"),
    Row("an answer note with NUL", "POST", PUSH, answer_edit(note="baik\x00"), 422, "sync.bad_change"),
    Row("an answer note with a bell (C0)", "POST", PUSH, answer_edit(note="baik\x07"), 422, "sync.bad_change"),
    Row("an answer with a lone surrogate", "POST", PUSH, raw(lambda v: with_answer_text(v, '"ya\\ud800"')), 400,
        "sync.bad_request"),
    Row("an answer with a raw lone surrogate byte sequence", "POST", PUSH,
        raw(lambda v: with_answer_text(v, '"ya\ud800"')), 400, "sync.bad_request"),
    Row("an answer NaN", "POST", PUSH, raw(lambda v: with_answer_text(v, "NaN")), 400, "sync.bad_request"),
    Row("an answer Infinity", "POST", PUSH, raw(lambda v: with_answer_text(v, "Infinity")), 400, "sync.bad_request"),
    Row("an answer -Infinity", "POST", PUSH, raw(lambda v: with_answer_text(v, "-Infinity")), 400, "sync.bad_request"),
    Row("an answer 10^400", "POST", PUSH, raw(lambda v: with_answer_text(v, "1" + "0" * 400)), 422, "sync.bad_change"),
    Row("an item id with a control character", "POST", PUSH,
        edit(lambda d: audit_payload(d)["answers"].update({"q1\x07": {"value": "ya", "note": None}})), 422,
        "sync.bad_change"),
    # facilities
    Row("facility field __class__", "POST", PUSH, lambda v: facility_push(v, fields={"__class__": "x"}), 422,
        "sync.bad_change"),
    Row("facility field id", "POST", PUSH, lambda v: facility_push(v, fields={"id": str(uuid.uuid4())}), 422,
        "sync.bad_change"),
    Row("facility name with an escape character", "POST", PUSH,
        lambda v: facility_push(v, fields={"name": "Taman\x1b[31m"}), 422, "sync.bad_change"),
    Row("facility name with a right-to-left override", "POST", PUSH,
        lambda v: facility_push(v, fields={"name": "Taman \u202egpj.exe"}), 422, "sync.bad_change"),
    Row("facility lat as a string", "POST", PUSH, lambda v: facility_push(v, fields={"lat": "-6.1"}), 422,
        "sync.bad_change"),
    Row("facility kind unknown", "POST", PUSH, lambda v: facility_push(v, fields={"kind": "bunker"}), 422,
        "sync.bad_change"),
    Row("facility name null", "POST", PUSH, lambda v: facility_push(v, fields={"name": None}), 422, "sync.bad_change"),
    Row("facility base not a clock reading", "POST", PUSH,
        lambda v: facility_push(v, base={"name": "yesterday"}), 422, "sync.bad_change"),
    # the other kinds
    Row("a region whose boundary is not WKB", "POST", PUSH, lambda v: one_change(v, "wilayah", "36.73", {
        "code": "36.73", "level": "kabkota", "name": "Kota Serang", "boundary": "00ff"}), 422, "sync.bad_change"),
    Row("an account with the role root", "POST", PUSH, lambda v: one_change(v, "user", USER_ID, {
        "id": USER_ID, "username": "mallory", "role": "root", "password_hash": "scrypt:1$a$b", "active": True}),
        422, "sync.bad_change"),
    Row("a review decided at no date", "POST", PUSH, lambda v: one_change(v, "review", v.audit_id, {
        "id": USER_ID, "audit_id": v.audit_id, "decision": "approved", "decided_at": NOT_A_DATE}), 422,
        "sync.bad_change"),
    Row("a review with an unknown decision", "POST", PUSH, lambda v: one_change(v, "review", v.audit_id, {
        "id": USER_ID, "audit_id": v.audit_id, "decision": "approved!", "decided_at": "2026-11-20T03:00:00Z"}), 422,
        "sync.bad_change"),
    # checklists from below
    Row("checklist content not YAML", "POST", PUSH, checklist_edit(lambda c: c + "\n  - : ]["), 422,
        "sync.bad_checklist"),
    Row("checklist without a version", "POST", PUSH,
        checklist_edit(lambda c: "\n".join(line for line in c.splitlines() if not line.startswith("version:"))), 422,
        "sync.bad_checklist"),
    Row("checklist with a wrong sha256", "POST", PUSH, checklist_edit(sha256="0" * 64), 422, "sync.bad_checklist"),
    Row("checklist key other than id@version", "POST", PUSH, checklist_edit(key="ktr@2"), 422, "sync.bad_checklist"),
    Row("checklist key without @version", "POST", PUSH, checklist_edit(key="ktr"), 422, "sync.bad_change"),
    Row("checklist with YAML aliases (billion laughs)", "POST", PUSH,
        checklist_edit(lambda c: "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n" + c),
        422, "sync.bad_checklist"),
    Row("checklist not a mapping", "POST", PUSH, checklist_edit(lambda c: "- just\n- a list\n"), 422,
        "sync.bad_checklist"),
    # the JSON itself
    Row("nested 100,000 deep", "POST", PUSH, lambda v: b"[" * DEEP + b"]" * DEEP, 400, "sync.bad_request"),
    Row("objects nested 100,000 deep", "POST", PUSH, lambda v: b'{"a":' * DEEP + b"1" + b"}" * DEEP, 400,
        "sync.bad_request"),
    Row("not UTF-8", "POST", PUSH, lambda v: b'{"after": 0, "up_to": 0, "entries": ["\xff\xfe"]}', 400,
        "sync.bad_request"),
    # bytes on the wire
    Row("a gzip bomb (320 MiB of spaces)", "POST", PUSH, lambda v: gzip_bomb(), 413, "sync.too_large",
        headers=(("Content-Encoding", "gzip"),)),
    Row("gzip cut short", "POST", PUSH, lambda v: gzip.compress(json.dumps(body(v)).encode())[:-40], 400,
        "sync.bad_request", headers=(("Content-Encoding", "gzip"),)),
    Row("an encoding the hub does not read", "POST", PUSH, lambda v: json.dumps(body(v)).encode(), 415,
        "sync.bad_encoding", headers=(("Content-Encoding", "br"),)),
    # pull
    Row("pull with a 30-digit cursor", "GET", f"{PULL}?cursor={'9' * 30}", None, 400, "sync.bad_request"),
    Row("pull with a negative cursor", "GET", f"{PULL}?cursor=-1", None, 400, "sync.bad_request"),
    Row("pull with a limit of 10^30", "GET", f"{PULL}?cursor=0&limit={10 ** 30}", None, 400, "sync.bad_request"),
    Row("pull with a cursor in Arabic-Indic digits", "GET", f"{PULL}?cursor=\u0661\u0662", None, 400,
        "sync.bad_request"),
    # photos/missing
    Row("photos/missing with a number for a hash", "POST", f"{API}/photos/missing", lambda v: {"sha256": [5]}, 400,
        "sync.bad_request"),
    Row("photos/missing with 10,001 hashes", "POST", f"{API}/photos/missing",
        lambda v: {"sha256": ["0" * 64] * 10_001}, 400, "sync.bad_request"),
    # enrollment (the body only: the code is checked by the enrollment service)
    Row("enroll with a code of 33 characters", "POST", f"{API}/enroll", lambda v: {"code": "A" * 33}, 400,
        "sync.bad_request"),
    Row("enroll with a code that is a number", "POST", f"{API}/enroll", lambda v: {"code": 12345678}, 400,
        "sync.bad_request"),
    Row("enroll with a name holding NUL", "POST", f"{API}/enroll", lambda v: {"code": "AAAA-BBBB", "name": "tab\x00"},
        400, "sync.bad_request"),
    Row("enroll with NaN", "POST", f"{API}/enroll", lambda v: b'{"code": NaN}', 400, "sync.bad_request"),
]


def send(client, tablet: Tablet, v: ValidBundle, row: Row):
    headers = {**tablet.auth, **dict(row.headers)}
    made = row.make(v) if row.make else None
    if isinstance(made, dict):
        return client.open(row.path, method=row.method, headers=headers, json=made)
    return client.open(row.path, method=row.method, headers=headers, data=made, content_type="application/json")


@pytest.mark.parametrize("row", [pytest.param(row, id=row.name) for row in ROWS])
def test_hostile_request_is_refused_with_its_code_and_nothing_changes(app, client, tablet, valid, row):
    before, files = state(app), photo_files(photo_root(app))
    response = send(client, tablet, valid, row)
    assert (response.status_code, error_code(response)) == (row.status, row.code), response.get_data(as_text=True)[:500]
    assert response.get_json()["error"]["message"]
    assert state(app) == before
    assert photo_files(photo_root(app)) == files


def test_the_table_is_not_vacuous(app, client, tablet, valid):
    """The body every push row mutates is accepted as it is: each refusal is the mutation's doing."""
    assert client.put(f"{API}/photos/{valid.photo_sha}", data=valid.photo, headers=tablet.auth).status_code == 201
    response = client.post(PUSH, json=body(valid), headers=tablet.auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    edit_response = client.post(PUSH, json=facility_push(valid, seq=3), headers=tablet.auth)
    assert edit_response.status_code == 200, edit_response.get_data(as_text=True)


def test_a_refusal_names_the_place_that_was_wrong(app, client, tablet, valid):
    data = answer_edit(value={"$gt": ""})(valid)
    error = client.post(PUSH, json=data, headers=tablet.auth).get_json()["error"]
    item = next(iter(audit_payload(data)["answers"]))
    assert error["code"] == "sync.bad_change"
    assert f"entries[1].change.payload.answers.{item}.value" in error["message"]


# --- accepted: text is text ----------------------------------------------------------------------------------


def test_markup_and_format_strings_are_accepted_and_stored_as_text(app, client, tablet, valid):
    assert client.put(f"{API}/photos/{valid.photo_sha}", data=valid.photo, headers=tablet.auth).status_code == 201
    note = "100% <script>alert(1)</script> %(where)s %s {0} \t tab\r\nbaris baru"
    data = answer_edit(note=note)(valid)
    response = client.post(PUSH, json=data, headers=tablet.auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    item = next(iter(audit_payload(data)["answers"]))
    with app.app_context():
        stored = db.session.execute(select(Answer.note).where(Answer.audit_id == uuid.UUID(valid.audit_id),
                                                              Answer.item_id == item)).scalar_one()
    assert stored == note


# --- bundles ----------------------------------------------------------------------------------------------------


def import_on_hub(app, data: bytes, tmp_path: Path):
    with app.app_context(), write_transaction() as session:
        return service.import_push_bundle(session, data, PhotoStore(photo_root(app)), app.config["MAX_CONTENT_LENGTH"],
                                          tmp_path / "return.zip")


def set_declared_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with `name`'s uncompressed size set to `size` in its local and central headers (a lying header)."""
    damaged = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(name).header_offset
    struct.pack_into("<I", damaged, local + 22, size)
    end = data.rindex(b"PK\x05\x06")
    count, _, start = struct.unpack_from("<HII", data, end + 10)
    position = start
    for _ in range(count):
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46:position + 46 + name_length].decode() == name:
            struct.pack_into("<I", damaged, position + 24, size)
        position += 46 + name_length + extra_length + comment_length
    return bytes(damaged)


def set_flag(data: bytes, name: str, flag: int) -> bytes:
    """The zip with a general-purpose flag bit set on `name` in both headers (e.g. 0x1: encrypted)."""
    damaged = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(name).header_offset
    damaged[local + 6] |= flag
    end = data.rindex(b"PK\x05\x06")
    count, _, start = struct.unpack_from("<HII", data, end + 10)
    position = start
    for _ in range(count):
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46:position + 46 + name_length].decode() == name:
            damaged[position + 8] |= flag
        position += 46 + name_length + extra_length + comment_length
    return bytes(damaged)


def lying_bomb(v: ValidBundle, size: int = 200 * MiB) -> bytes:
    """changes.jsonl as `size` bytes of zeros that its headers say are 60 KiB: under every ratio floor."""
    manifest, members = unpack(v())
    deflater, parts = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS), []
    for _ in range(size // MiB):
        parts.append(deflater.compress(bytes(MiB)))
    parts.append(deflater.flush())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            if name != "changes.jsonl":
                archive.writestr(name, data)
        info = zipfile.ZipInfo("changes.jsonl", date_time=(2026, 11, 20, 3, 0, 0))
        info.compress_type = zipfile.ZIP_STORED  # written raw below, then marked deflated
        archive.writestr(info, b"".join(parts))
    data = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo("changes.jsonl").header_offset
    damaged = bytearray(data)
    struct.pack_into("<H", damaged, local + 8, zipfile.ZIP_DEFLATED)
    end = data.rindex(b"PK\x05\x06")
    count, _, start = struct.unpack_from("<HII", data, end + 10)
    position = start
    for _ in range(count):
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46:position + 46 + name_length] == b"changes.jsonl":
            struct.pack_into("<H", damaged, position + 10, zipfile.ZIP_DEFLATED)
        position += 46 + name_length + extra_length + comment_length
    return set_declared_size(bytes(damaged), "changes.jsonl", 60 * 1024)


def many_small_bombs(v: ValidBundle, count: int = 100) -> bytes:
    """The valid bundle plus `count` listed, signed photo members of 1 MiB of zeros each (about 1000:1),
    each just under the old 1 MiB ratio floor."""
    manifest, members = unpack(v())
    zeros = bytes(MiB - 1)
    extra = {f"photos/{hashlib.sha256(bytes([n % 256, n // 256])).hexdigest()}.jpg": zeros for n in range(count)}
    members = {**members, **extra}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(resign(relist(manifest, members), v.key)))
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def lines_bundle(v: ValidBundle, line: bytes) -> bytes:
    """The valid bundle with one more line in changes.jsonl, listed and signed."""
    manifest, members = unpack(v())
    members = {**members, "changes.jsonl": members["changes.jsonl"] + line + b"\n"}
    return pack(resign(relist(manifest, members), v.key), members)


def manifest_bundle(v: ValidBundle, **fields) -> bytes:
    manifest, members = unpack(v())
    return pack(resign({**manifest, **fields}, v.key), members)


def entry_line(v: ValidBundle, seq: int, payload_edit: Callable[[dict], None]) -> bytes:
    data = body(v)
    entry = data["entries"][1]
    entry["local_seq"], entry["change"]["origin_seq"] = seq, seq
    payload_edit(entry["change"]["payload"])
    return json.dumps(entry).encode()


@dataclass(frozen=True)
class BundleRow:
    name: str
    make: Callable[[ValidBundle], bytes]
    code: str


BUNDLE_ROWS = [
    BundleRow("zip bomb whose headers lie (200 MiB said to be 60 KiB)", lying_bomb, "bundle.unreadable"),
    BundleRow("a hundred members of 1 MiB of zeros", many_small_bombs, "bundle.too_large"),
    BundleRow("an encrypted member", lambda v: set_flag(v(), "changes.jsonl", 0x1), "bundle.encrypted"),
    BundleRow("a bzip2 member", lambda v: _recompressed(v(), zipfile.ZIP_BZIP2), "bundle.unsupported_compression"),
    BundleRow("a member declared larger than it is", lambda v: set_declared_size(v(), "changes.jsonl", 10),
              "bundle.unreadable"),
    BundleRow("manifest cursor 10^30", lambda v: manifest_bundle(v, cursor=10 ** 30), "bundle.bad_manifest"),
    BundleRow("manifest cursor as a string", lambda v: manifest_bundle(v, cursor="0"), "bundle.bad_manifest"),
    BundleRow("manifest with an unknown field", lambda v: manifest_bundle(v, admin=True), "bundle.bad_manifest"),
    BundleRow("manifest created_at not a date", lambda v: manifest_bundle(v, created_at="besok"), "bundle.bad_manifest"),
    BundleRow("manifest with NaN", lambda v: pack(json.dumps({**unpack(v())[0], "cursor": float("nan")}).encode(),
                                                  unpack(v())[1]), "bundle.bad_manifest"),
    BundleRow("manifest nested 10,000 deep", lambda v: pack(b"[" * 10_000 + b"]" * 10_000, unpack(v())[1]),
              "bundle.bad_manifest"),
    BundleRow("changes.jsonl line nested 10,000 deep", lambda v: lines_bundle(v, b"[" * 10_000 + b"]" * 10_000),
              "sync.bad_change"),
    BundleRow("changes.jsonl line with Infinity", lambda v: lines_bundle(v, b'{"local_seq": Infinity}'),
              "sync.bad_change"),
    BundleRow("changes.jsonl audit with an object for an answer",
              lambda v: lines_bundle(v, entry_line(v, 3, lambda p: p["answers"].update(q1={"value": {"a": 1}}))),
              "sync.bad_change"),
    BundleRow("changes.jsonl audit with a non-date submitted_at",
              lambda v: lines_bundle(v, entry_line(v, 3, lambda p: p.update(submitted_at="31/12/2026"))),
              "sync.bad_change"),
    BundleRow("changes.jsonl checklist with a wrong sha256",
              lambda v: v(entries=[(1, _with_payload(v.checklist_change(1), sha256="f" * 64))]), "sync.bad_checklist"),
]


def _with_payload(change, **fields):
    from dataclasses import replace

    return replace(change, payload={**change.payload, **fields})


def _recompressed(data: bytes, compress_type: int) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body_bytes in members:
            archive.writestr(name, body_bytes, compress_type=compress_type if name == "changes.jsonl" else zipfile.ZIP_STORED)
    return buffer.getvalue()


@pytest.mark.parametrize("row", [pytest.param(row, id=row.name) for row in BUNDLE_ROWS])
def test_hostile_bundle_is_refused_with_its_code_and_nothing_changes(app, tablet, valid, tmp_path, row):
    data = row.make(valid)
    before, files = state(app), photo_files(photo_root(app))
    with pytest.raises(SyncError) as refused:
        import_on_hub(app, data, tmp_path)
    assert refused.value.code == row.code, str(refused.value)
    assert 400 <= refused.value.status < 500
    assert state(app) == before
    assert photo_files(photo_root(app)) == files
    assert not (tmp_path / "return.zip").exists()


# --- what a bomb may cost ------------------------------------------------------------------------------------------

BOMB_MEMORY = 40 * MiB


def peak_during(action: Callable[[], object]) -> int:
    """Bytes allocated at the peak of `action`, above what was allocated when it started."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start


def test_a_gzip_bomb_costs_little_memory(app, client, tablet):
    bomb = gzip_bomb()
    responses = []
    peak = peak_during(lambda: responses.append(client.post(PUSH, data=bomb, content_type="application/json",
                                                            headers={**tablet.auth, "Content-Encoding": "gzip"})))
    assert (responses[0].status_code, error_code(responses[0])) == (413, "sync.too_large")
    assert peak < BOMB_MEMORY, f"{peak / MiB:.0f} MiB"
    assert api.MAX_BODY < BOMB_MEMORY


@pytest.mark.parametrize("make", [lying_bomb, many_small_bombs], ids=["lying headers", "many small members"])
def test_a_zip_bomb_costs_little_memory(app, tablet, valid, tmp_path, make):
    data = make(valid)
    errors = []

    def attempt():
        try:
            import_on_hub(app, data, tmp_path)
        except SyncError as error:
            errors.append(error.code)

    peak = peak_during(attempt)
    assert errors and errors[0] in ("bundle.unreadable", "bundle.too_large")
    assert peak < BOMB_MEMORY, f"{peak / MiB:.0f} MiB"


def test_a_valid_bundle_still_imports(app, tablet, valid, tmp_path):
    ack, _ = import_on_hub(app, valid(), tmp_path)
    assert ack.applied == 2
    with app.app_context():
        assert db.session.get(Audit, uuid.UUID(valid.audit_id)) is not None



def test_a_chunked_photo_over_the_limit_is_refused_as_too_large_not_read_cut_short(app, client, tablet):
    """A body without Content-Length (chunked) over the upload limit: 413, never a photo read up to the limit
    and refused as damaged (Werkzeug stops at the limit without a word)."""
    import hashlib
    import io

    from tests.support import make_jpeg

    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    photo = make_jpeg(2000, 1500)
    assert len(photo) > 16 * 1024
    sha = hashlib.sha256(photo).hexdigest()
    response = client.put(f"{API}/photos/{sha}", headers=tablet.auth, input_stream=io.BytesIO(photo),
                          content_type="application/octet-stream",
                          environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert (response.status_code, error_code(response)) == (413, "upload.too_large"), response.get_data(as_text=True)[:300]
    assert not response.request.environ["CONTENT_LENGTH"]  # sent as a stream of unknown length
    assert not photo_root(app).joinpath(sha[:2]).exists() or not any(photo_root(app).rglob(f"{sha}*"))


@pytest.mark.parametrize("announced, drained", [
    ("exact", True),  # behind a proxy: read to its end, so the proxy gets the 413 and not a reset
    ("chunked", True),
    ("huge", False),  # announces more than DRAIN_LIMIT: not read, the connection closes as before
], ids=["with length", "chunked", "over the drain limit"])
def test_a_refused_body_is_read_to_its_end_when_it_is_small_enough(app, client, tablet, announced, drained):
    """gunicorn closes a connection with more than 64 KiB unread; nginx, still sending the body, then shows its
    own 502 in place of our 413. The refusal reads what is left of a body up to DRAIN_LIMIT first."""
    import io

    from app.errors import DRAIN_LIMIT

    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    body = b"\0" * (64 * 1024)
    stream = io.BytesIO(body)
    length = {"exact": str(len(body)), "chunked": "", "huge": str(DRAIN_LIMIT + 1)}[announced]
    response = client.put(f"{API}/photos/{'0' * 64}", headers=tablet.auth, input_stream=stream,
                          content_type="application/octet-stream",
                          environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": length})
    assert (response.status_code, error_code(response)) == (413, "upload.too_large"), response.get_data(as_text=True)[:300]
    assert (stream.tell() == len(body)) is drained, stream.tell()
