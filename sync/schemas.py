"""Every body that crosses the sync door, declared once (pydantic v2). Pure; no Flask, no database.

One model per change kind and per API body. The API validates a request against its model before
any state is touched, bundles validate their manifest and every line of changes.jsonl the same way,
and `/api/v1/openapi.json` is generated from these very models (sync/openapi.py): the document and
the validation cannot drift apart.

The models are a gate, not a conversion: a change keeps the exact JSON values its sender hashed
(`Change.sha256` is over them), so validation only says yes or no and inner code reads the dict,
trusting the types declared here. Every model is strict (no "1" for 1, no 1.0 for an int, no
True for a number), refuses unknown fields, NaN and infinities, and bounds every string, number,
list and mapping.

JSON itself is parsed by pydantic-core's parser (`parse_json`): it refuses NaN/Infinity, lone
surrogates and nesting deeper than 200 levels without recursing in Python, so no input can reach a
RecursionError; the models then allow far less depth than that.
"""

import hashlib
import re
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, Union

import pydantic_core
import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag, TypeAdapter,
                      ValidationError, model_validator, with_config)
from shapely import wkb
from shapely.errors import ShapelyError
from typing_extensions import NotRequired, TypedDict

from app.auth.scope import ROLES
from geo.codes import LEVELS
from survey.checklist import ADDRESS, MAX_ADDRESS, ChecklistError, load_checklist_text
from survey.kinds import KIND_CODES

# Kept here (and tested equal to their sources) because those modules import Flask or SQLAlchemy
# models, and this one must stay pure: sync.reviews.DECISIONS, survey.catalog.models.TRAVELLING_STATES,
# survey.audits.models.POSITION_SOURCES, survey.facilities.models.STATUSES, survey.facilities.models.FACILITY_FIELDS.
DECISIONS = ("approved", "returned", "rejected")
POSITION_SOURCES = ("gps", "manual", "map")
FACILITY_STATUSES = ("active", "closed", "deleted")
FACILITY_FIELDS = ("kind", "name", "official_id", "address", "lat", "lon", "kecamatan_code", "desa_code", "status",
                   "verified")
CHANGE_KINDS = ("checklist", "wilayah", "user", "facility", "audit", "review")
RELEASE_STATES = ("published", "retired")  # survey.catalog.models.TRAVELLING_STATES

MAX_SEQ = 2 ** 53  # the largest integer JSON carries exactly, far below a database BIGINT
MAX_REVISION = 10_000
MAX_ENTRIES = 2000  # per push request (a device sends batches of at most 500)
MAX_ANSWERS = 20_000  # answers of one audit, repeat instances included (survey.checklist.MAX_ANSWERS)
MAX_PHOTOS_PER_ITEM = 50
MAX_READINGS = 500
MAX_WARNINGS = 20
MAX_CHOICES = 200  # values of one select_multiple answer
MAX_TEXT = 10_000  # a free-text answer or note (survey.checklist.MAX_TEXT_ANSWER)
MAX_CHECKLIST = 2 * 1024 * 1024  # characters of one checklist's YAML text
MAX_BOUNDARY_HEX = 64 * 1024 * 1024  # hex characters of one region's WKB boundary (32 MiB of WKB)
MAX_ACCURACY_M = 1_000_000.0  # beyond that a reading is not a position
MAX_NUMBER = 1e15  # a numeric answer; far beyond any count or measure a checklist asks for
MAX_SHA_LIST = 10_000  # hashes in one photos/missing request
MAX_DEPTH = 200  # pydantic-core's parser refuses deeper JSON before it can recurse too far

# --- text ---------------------------------------------------------------------------------------------
# Patterns are matched by pydantic-core in Rust, which also refuses lone surrogates (they are not
# Unicode scalar values). Names, codes and ids carry no control character at all; free text may
# carry tab, newline and carriage return (a textarea sends CRLF), nothing else below U+0020, no DEL,
# no C1 controls, and no U+FFFE/U+FFFF (characters XLSX and XML cannot hold).
_NAME_CHARS = r"^[^\x00-\x1f\x7f-\x9f\ufffe\uffff\u202a-\u202e\u2066-\u2069]*$"
_TEXT_CHARS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]*$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
HLC_PATTERN = r"^[0-9]{16}\.[0-9]{4}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
CHECKLIST_KEY_PATTERN = r"^[a-z0-9_]{1,64}@[1-9][0-9]{0,8}$"
_MAX_HLC_MS = 253_402_300_799_999  # sync.hlc.MAX_MS: 9999-12-31
_ISO_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                           r"(Z|[+-][0-9]{2}:[0-9]{2})?$")


def _name(max_length: int, min_length: int = 0):
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=_NAME_CHARS)]


def _text(max_length: int):
    return Annotated[str, StringConstraints(max_length=max_length, pattern=_TEXT_CHARS)]


def _pattern(pattern: str, max_length: int):
    return Annotated[str, StringConstraints(max_length=max_length, pattern=pattern)]


def _parses_as_time(value: str) -> str:
    """An ISO 8601 date-time that datetime.fromisoformat (what the merge calls) reads."""
    if not _ISO_DATETIME.match(value):
        raise ValueError("not an ISO 8601 date-time")
    datetime.fromisoformat(value)  # ValueError for 2026-13-45
    return value


def _hlc_in_range(value: str) -> str:
    if int(value[:16]) > _MAX_HLC_MS:
        raise ValueError("a clock reading beyond the year 9999")
    return value


Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN), Field(json_schema_extra={"format": "uuid"})]
Hlc = Annotated[_pattern(HLC_PATTERN, 21), AfterValidator(_hlc_in_range)]
Sha256 = _pattern(SHA256_PATTERN, 64)
DateTimeText = Annotated[_pattern(r"^[0-9][0-9T:.+Z -]{9,40}$", 40), AfterValidator(_parses_as_time),
                         Field(json_schema_extra={"format": "date-time"})]
Code = _pattern(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,15}$", 16)  # a Kemendagri region code (36.73.01)
# An answer's address: an item id, inside repeats `rep[2]/item` (survey.checklist.ADDRESS).
ItemId = _pattern(rf"^{ADDRESS.pattern}$", MAX_ADDRESS)
ChecklistKey = _pattern(CHECKLIST_KEY_PATTERN, 80)
Username = _pattern(r"^[A-Za-z0-9._-]{1,40}$", 40)
WarningCode = _pattern(r"^[a-z_.]{1,40}$", 40)  # gps.poor_accuracy: a code, never text shown as is
Seq = Annotated[int, Field(ge=1, le=MAX_SEQ)]
Position = Annotated[int, Field(ge=0, le=MAX_SEQ)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Accuracy = Annotated[float, Field(ge=0, le=MAX_ACCURACY_M)]
Number = Annotated[float, Field(ge=-MAX_NUMBER, le=MAX_NUMBER)]
Integer = Annotated[int, Field(ge=-MAX_SEQ, le=MAX_SEQ)]
ChoiceValue = _pattern(r"^[A-Za-z0-9_.\-]{1,64}$", 64)  # survey.checklist._CHOICE_VALUE


class Strict(BaseModel):
    """Strict types, no unknown fields, finite numbers only: the base of every body at the door."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


# --- change payloads, one per kind (shaped as sync.documents makes them) -------------------------------


class GpsAnswer(Strict):
    """The answer of a `gps` item: a position, nothing else (survey.checklist._check_gps)."""

    lat: Latitude
    lon: Longitude
    accuracy: Accuracy


# An answer is a scalar, a list of choice values (select_multiple) or photo hashes, or a gps position:
# never an arbitrary JSON object.
# Strict types never overlap (True is not 1, 1 is not "1"), so the first match is the only one: tried
# left to right, which is cheaper than pydantic's "smart" union on the sixty answers of an audit, and
# text first, what most answers are (ya, tidak, sebagian): a branch that fails costs an error object.
AnswerValue = Annotated[Union[_text(MAX_TEXT), None, bool, Integer, Number,
                              Annotated[list[ChoiceValue], Field(max_length=MAX_CHOICES)], GpsAnswer],
                        Field(union_mode="left_to_right")]


# A typed dict, not a model: the same rules as Strict, without a model object made for each of the sixty answers
# of every audit a hub ingests (the gate keeps nothing it builds). Left out, a key reads as null (sync.wire).
@with_config(ConfigDict(strict=True, extra="forbid", allow_inf_nan=False))
class Answer(TypedDict):
    """One answer: its value and the auditor's note."""

    value: NotRequired[Annotated[AnswerValue, Field(json_schema_extra={"default": None})]]
    note: NotRequired[Annotated[_text(MAX_TEXT) | None, Field(json_schema_extra={"default": None})]]


class Reading(Strict):
    """One GPS reading taken during an audit."""

    id: Uuid
    lat: Latitude
    lon: Longitude
    accuracy_m: Accuracy | None = None
    source: Literal[POSITION_SOURCES]
    taken_at: DateTimeText
    warnings: Annotated[list[WarningCode], Field(max_length=MAX_WARNINGS)] = []


# The audit's fields, types and order are sync.wire's (AUDIT_FIELDS, ANSWER_FIELDS, READING_FIELDS);
# tests/unit/test_sync_wire.py holds Answer, Reading and AuditPayload to them, field for field.
class AuditPayload(Strict):
    """A submitted audit, whole (sync.documents.audit_document)."""

    id: Uuid
    facility_id: Uuid
    checklist_key: ChecklistKey
    revision: Annotated[int, Field(ge=1, le=MAX_REVISION)] = 1
    revision_of: Uuid | None = None
    auditor: Username
    device_id: Uuid | None = None
    started_at: DateTimeText | None = None
    submitted_at: DateTimeText | None = None
    score: Annotated[float, Field(ge=0, le=100)] | None = None
    result: _pattern(r"^[a-z_]{1,20}$", 20) | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    accuracy_m: Accuracy | None = None
    position_source: Literal[POSITION_SOURCES] | None = None
    position_at: DateTimeText | None = None
    position_warnings: Annotated[list[WarningCode], Field(max_length=MAX_WARNINGS)] = []
    answers: Annotated[dict[ItemId, Answer], Field(max_length=MAX_ANSWERS)]
    photos: Annotated[dict[ItemId, Annotated[list[Sha256], Field(max_length=MAX_PHOTOS_PER_ITEM)]],
                      Field(max_length=MAX_ANSWERS)] = {}
    readings: Annotated[list[Reading], Field(max_length=MAX_READINGS)] = []


class FacilityFields(Strict):
    """The synced fields of a facility, each with its own type; any subset may travel in one edit."""

    kind: Literal[KIND_CODES] = None  # type: ignore[assignment]  (absent means: not edited)
    name: _name(160, 1) = None  # type: ignore[assignment]
    official_id: _pattern(r"^[0-9A-Za-z][0-9A-Za-z./-]{0,39}$", 40) | None = None
    address: _text(300) | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    kecamatan_code: Code = None  # type: ignore[assignment]
    desa_code: Code | None = None
    status: Literal[FACILITY_STATUSES] = None  # type: ignore[assignment]
    verified: bool = None  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _no_null_where_required(cls, data: Any) -> Any:
        # kind, name, kecamatan_code, status and verified may be left out of an edit, never set to null.
        if isinstance(data, dict):
            if not data:
                raise ValueError("an edit changes at least one field")
            for name in ("kind", "name", "kecamatan_code", "status", "verified"):
                if name in data and data[name] is None:
                    raise ValueError(f"{name} cannot be null")
        return data


class FacilityBase(Strict):
    """The HLC of the value each edited field was made on."""

    kind: Hlc | None = None
    name: Hlc | None = None
    official_id: Hlc | None = None
    address: Hlc | None = None
    lat: Hlc | None = None
    lon: Hlc | None = None
    kecamatan_code: Hlc | None = None
    desa_code: Hlc | None = None
    status: Hlc | None = None
    verified: Hlc | None = None


class FacilityPayload(Strict):
    """Field edits of one facility (a registration is an edit of every field; a deletion of `status`)."""

    facility_id: Uuid
    fields: FacilityFields
    base: FacilityBase = FacilityBase()


class ReviewPayload(Strict):
    """A hub's decision on an audit."""

    id: Uuid
    audit_id: Uuid
    decision: Literal[DECISIONS]
    comment: _text(MAX_TEXT) | None = None
    reviewer: _pattern(r"^[A-Za-z0-9._-]{0,40}$", 40) | None = None
    decided_at: DateTimeText
    device_id: Uuid | None = None


class ReleaseState(Strict):
    """A hub's catalog state of a checklist version (survey.catalog): devices start audits only with published ones."""

    state: Literal[RELEASE_STATES]


class ChecklistPayload(Strict):
    """The exact text of a checklist version; parsed with the app's own loader before it is accepted.

    From a hub, it carries the version's catalog state: the latest change by (hlc, origin) holds the state."""

    key: ChecklistKey
    checklist_id: _pattern(r"^[a-z0-9_]{1,64}$", 64)
    version: Annotated[int, Field(ge=1, le=999_999_999)]
    sha256: Sha256
    content: _text(MAX_CHECKLIST)
    release: ReleaseState | None = None

    @model_validator(mode="after")
    def _content_matches(self) -> "ChecklistPayload":
        if hashlib.sha256(self.content.encode()).hexdigest() != self.sha256:
            raise ValueError("sha256 is not the SHA-256 of content")
        parsed_id, parsed_version = parsed_checklist(self.content)
        if (self.checklist_id, self.version) != (parsed_id, parsed_version):
            raise ValueError(f"checklist_id and version differ from the content's ({parsed_id}@{parsed_version})")
        if self.key != f"{parsed_id}@{parsed_version}":
            raise ValueError(f"key is not {parsed_id}@{parsed_version}")
        return self


@lru_cache(maxsize=64)
def parsed_checklist(content: str) -> tuple[str, int]:
    """(id, version) of checklist YAML read with survey.checklist; ValueError when it is not a checklist.

    YAML aliases are refused first: the app never writes them (dump_checklist_yaml), and a file of
    nested aliases ("billion laughs") would make the loader build a huge structure.
    """
    try:
        for token in yaml.scan(content):
            if isinstance(token, (yaml.AliasToken, yaml.AnchorToken)):
                raise ValueError("content uses YAML anchors or aliases")
        checklist = load_checklist_text(content, origin="content")
    except ChecklistError as error:
        raise ValueError(f"content is not a valid checklist ({error.code})") from None
    except yaml.YAMLError:
        raise ValueError("content is not valid YAML (checklist.bad_yaml)") from None
    except RecursionError:
        raise ValueError("content is nested too deeply") from None
    return checklist.id, checklist.version


def _is_wkb(value: str) -> str:
    """A boundary the map can read: hex of WKB that shapely parses (as sync.documents.boundary_bytes does)."""
    if value:
        try:
            wkb.loads(bytes.fromhex(value))
        except (ShapelyError, ValueError):
            raise ValueError("boundary is not WKB") from None
    return value


class WilayahPayload(Strict):
    """A region and its boundary (WKB as hex)."""

    code: Code
    level: Literal[LEVELS]
    name: _name(120, 1)
    kind: _pattern(r"^[a-z_]{1,10}$", 10) | None = None
    parent_code: Code | None = None
    bps_code: Code | None = None
    boundary: Annotated[_pattern(r"^(?:[0-9a-fA-F]{2})*$", MAX_BOUNDARY_HEX), AfterValidator(_is_wkb)] | None = None
    boundary_note: _text(200) | None = None


class UserPayload(Strict):
    """An account and its kecamatan (made on hubs, travels down)."""

    id: Uuid
    username: _pattern(r"^[A-Za-z0-9._-]{3,40}$", 40)
    full_name: _name(120) | None = None
    role: Literal[ROLES]
    password_hash: _pattern(r"^[A-Za-z0-9$:._+/=-]{1,255}$", 255)
    active: bool
    is_demo: bool = False
    kecamatan: Annotated[list[Code], Field(max_length=200)] = []


PAYLOADS: dict[str, type[Strict]] = {"audit": AuditPayload, "facility": FacilityPayload, "review": ReviewPayload,
                                     "checklist": ChecklistPayload, "wilayah": WilayahPayload, "user": UserPayload}
# The field of a payload that names the record a change is about (its entity_id).
_ENTITY_FIELD = {"audit": "id", "facility": "facility_id", "review": "audit_id", "checklist": "key",
                 "wilayah": "code", "user": "id"}


# --- the change and its entry -----------------------------------------------------------------------------


class _ChangeBase(Strict):
    origin_id: Uuid
    origin_seq: Seq
    entity_id: _name(80, 1)
    hlc: Hlc
    scope: Code | None = None

    @model_validator(mode="after")
    def _entity_is_the_payload_record(self):
        # A change is about the record its payload names: an audit change's entity_id is the audit's id.
        named = getattr(self.payload, _ENTITY_FIELD[self.kind])
        same = named.lower() == self.entity_id.lower() if self.kind in ("audit", "facility", "review", "user") \
            else named == self.entity_id
        if not same:
            raise ValueError(f"entity_id is not the payload's {_ENTITY_FIELD[self.kind]}")
        return self


def _change_model(kind: str) -> type[_ChangeBase]:
    """The change model of one kind: the envelope with that kind's payload."""
    return type(f"{kind.title()}Change", (_ChangeBase,), {
        "__annotations__": {"kind": Literal[kind], "payload": PAYLOADS[kind]},
        "__doc__": f"A change of kind {kind}.", "__module__": __name__})


CHANGE_MODELS = {kind: _change_model(kind) for kind in CHANGE_KINDS}


def _kind_of(value: Any) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if isinstance(kind, str) and kind in CHANGE_MODELS else None


AnyChange = Annotated[Union[tuple(Annotated[model, Tag(kind)] for kind, model in CHANGE_MODELS.items())],
                      Discriminator(_kind_of, custom_error_type="change_kind",
                                    custom_error_message=f"kind is not one of {', '.join(CHANGE_KINDS)}")]


class Entry(Strict):
    """One change with the sender's position of it in its log."""

    local_seq: Seq
    change: AnyChange


# --- the HTTP bodies ---------------------------------------------------------------------------------------


class EnrollBody(BaseModel):
    """A one-time code exchanged for a token. Other fields (device_id, role, sent by older clients) are
    ignored: the hub mints the device's id and takes its role and scope from the registration."""

    model_config = ConfigDict(strict=True, extra="allow", allow_inf_nan=False, frozen=True)

    code: _name(32) = ""  # as typed: case, dashes and spaces do not matter (sync.service.normalise_code)
    name: _name(80) = ""


class PhotosMissingBody(Strict):
    sha256: Annotated[list[_pattern(r"^[0-9A-Za-z]{1,64}$", 64)], Field(max_length=MAX_SHA_LIST)] = []


class PushBody(Strict):
    """A batch of the device's changes: positions `after` (what the hub acknowledged) to `up_to`."""

    after: Annotated[Position, Field(description="the last position the hub acknowledged")]
    up_to: Annotated[Position, Field(description="the sender's position this batch reaches")]
    entries: Annotated[list[Entry], Field(max_length=MAX_ENTRIES)]

    @model_validator(mode="after")
    def _forward(self) -> "PushBody":
        if self.up_to < self.after:
            raise ValueError("up_to is below after")
        # A batch carries the sender's changes after what the hub acknowledged, up to where it reaches.
        if any(not self.after < entry.local_seq <= self.up_to for entry in self.entries):
            raise ValueError("an entry's local_seq is outside (after, up_to]")
        return self


class PullQuery(Strict):
    """The query of a pull (from the URL, so numbers arrive as text and are read as integers)."""

    model_config = ConfigDict(strict=False, extra="ignore", frozen=True)

    cursor: Position = 0
    limit: Annotated[int, Field(ge=1, le=2000)] = 500


class OwnQuery(Strict):
    """The query of a restored device asking its own changes back: after its own sequence number `after`."""

    model_config = ConfigDict(strict=False, extra="ignore", frozen=True)

    after: Annotated[Position, Field(description="the device's own sequence number it holds changes up to")] = 0
    limit: Annotated[int, Field(ge=1, le=2000)] = 500


class StatusQuery(Strict):
    """The query of a status request: the device's own last sequence, when it says (from the URL, read as an integer)."""

    model_config = ConfigDict(strict=False, extra="ignore", frozen=True)

    seq: Annotated[Position, Field(description="the device's own last sequence number")] | None = None


class Manifest(Strict):
    """A bundle's manifest (sync.bundle.write). The signature is checked by the bundle reader."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)

    format: Literal["pantau-bundle"]
    schema_version: int
    device_id: _name(64)
    hub_id: _name(64)
    direction: Literal["push", "return"]
    first_seq: Position = 0
    last_seq: Position = 0
    cursor: Position
    created_at: DateTimeText | None = None
    members: Annotated[dict[_name(120, 1), Sha256], Field(max_length=100_000)]
    signature: _pattern(r"^[0-9a-f]{0,128}$", 128) | None = None
    after: Position = 0
    up_to: Position = 0
    acked_seq: Position = 0
    from_cursor: Position = 0


# --- the answers ---------------------------------------------------------------------------------------------


class Problem(BaseModel):
    code: str = Field(examples=["sync.unauthorized"])
    message: str


class Error(BaseModel):
    """A refusal: a stable code and a message in the user's language."""

    error: Problem


class Enrolled(BaseModel):
    device_id: str
    token: str
    device_key: str
    hub_id: str
    hub_name: str | None = None
    scope: list[str]
    role: str


class Status(BaseModel):
    hub_id: str
    acked_seq: int
    schema_version: int
    scope: list[str] | None = None
    restart: bool = Field(False, description="the device's sequence went back below what the hub acknowledged")


class Missing(BaseModel):
    missing: list[str]


class PhotoStored(BaseModel):
    sha256: str
    stored: bool


class Ack(BaseModel):
    acked_seq: int
    applied: int
    duplicates: int
    waiting: int
    conflicts: int


class SentChange(BaseModel):
    """A change as a node sends it (checked with the kind's model when it was received)."""

    origin_id: str
    origin_seq: int
    kind: str
    entity_id: str
    hlc: str
    payload: dict
    scope: str | None = None


class PageEntry(BaseModel):
    local_seq: int
    change: SentChange


class Page(BaseModel):
    entries: list[PageEntry]
    cursor: int
    more: bool


class OwnPage(BaseModel):
    entries: list[PageEntry]
    more: bool


# --- parsing and checking ------------------------------------------------------------------------------------

PUSH = TypeAdapter(PushBody)
ENTRY = TypeAdapter(Entry)
ENROLL = TypeAdapter(EnrollBody)
PHOTOS_MISSING = TypeAdapter(PhotosMissingBody)
PULL = TypeAdapter(PullQuery)
STATUS_QUERY = TypeAdapter(StatusQuery)
OWN_QUERY = TypeAdapter(OwnQuery)
MANIFEST = TypeAdapter(Manifest)


class BadJson(ValueError):
    """Text that is not JSON this app accepts (NaN, lone surrogates, too deep, not UTF-8)."""


def parse_json(raw: bytes | str) -> Any:
    """JSON text as Python values; BadJson for anything json.loads would need leniency for.

    pydantic-core's parser refuses NaN and ±Infinity, lone surrogates and nesting beyond 200 levels
    (without recursing on the C stack), so none of those reaches a model or a RecursionError.
    """
    try:
        return pydantic_core.from_json(raw, allow_inf_nan=False, cache_strings="keys")
    except ValueError as error:
        raise BadJson(str(error)[:200]) from None


def check(adapter: TypeAdapter, data: Any) -> None:
    """Validate `data`; ValidationError when it breaks its schema. Nothing is converted or kept."""
    adapter.validate_python(data)


def where(loc: tuple, prefix: str = "") -> str:
    """A readable, safe path to the first error: entries[3].change.payload.answers.q1.value."""
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            part = re.sub(r"[^A-Za-z0-9_@-]", "?", str(part))[:40]
            text += f".{part}" if text else part
    return text[:160] or "body"


def first_error(error: ValidationError, prefix: str = "") -> tuple[str, tuple]:
    """(where, loc) of the first problem, with the union and tag steps pydantic adds left out."""
    loc = _plain_loc(error.errors(include_url=False, include_input=False)[0]["loc"])
    return where(loc, prefix), loc


def _plain_loc(loc: tuple) -> tuple:
    # pydantic names the union branch it tried (`str`, `constrained-str`, a kind tag, `GpsAnswer`...):
    # not part of where the bad value is.
    plain, skip_next = [], False
    for part in loc:
        if isinstance(part, str) and (part in CHANGE_MODELS and plain and plain[-1] == "change"
                                      or part.startswith(("constrained-", "function-", "list[", "dict["))
                                      or part in ("str", "int", "float", "bool", "none", "GpsAnswer", "tagged-union")):
            continue
        plain.append(part)
    return tuple(plain)


