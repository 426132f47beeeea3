"""The OpenAPI 3.1 description of the sync API, served at /api/v1/openapi.json.

Generated from the pydantic models in sync.schemas, the same ones the API validates with: the
document cannot promise a shape the door does not check, or the other way round.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic.json_schema import models_json_schema

from sync import schemas

_REF = "#/components/schemas/{model}"
_AUTH = [{"deviceToken": []}]
_SHA256 = {"name": "sha256", "in": "path", "required": True, "schema": {"type": "string", "pattern": schemas.SHA256_PATTERN}}
_REQUESTS = (schemas.EnrollBody, schemas.PhotosMissingBody, schemas.PushBody)
_ANSWERS = (schemas.Error, schemas.Enrolled, schemas.Status, schemas.Missing, schemas.PhotoStored, schemas.Ack,
            schemas.Page, schemas.OwnPage, schemas.Manifest, schemas.Entry)


def _json(model: type) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}}}


def _answer(description: str, model: type | None = None) -> dict:
    return {"description": description, **(_json(model) if model else {})}


def _refusals(*statuses: int) -> dict:
    """Refusals: a stable error code and a message, in the user's language."""
    return {str(status): _answer("Refused: a stable error code and a message", schemas.Error) for status in statuses}


def _query_parameters(model: type) -> list[dict]:
    """One OpenAPI query parameter per field of a query model."""
    schema = model.model_json_schema()
    return [{"name": name, "in": "query", "required": name in schema.get("required", ()), "schema": field}
            for name, field in schema["properties"].items()]


@lru_cache(maxsize=1)
def document() -> dict:
    """The whole OpenAPI document (made once per process)."""
    _, definitions = models_json_schema([(model, "validation") for model in _REQUESTS + _ANSWERS],
                                        ref_template=_REF)
    auth_refusals = _refusals(401, 403)
    body_refusals = _refusals(400, 413, 415)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pantau KLA sync API", "version": "1",
                 "description": "Devices and hubs exchange changes (audits, facility edits, reviews, checklists, "
                                "regions, users). See docs/sync.md for the model and rules. Bodies may be "
                                "gzip-encoded. Every body is checked against the schemas below before anything "
                                "is stored; a refusal changes nothing."},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"deviceToken": {"type": "http", "scheme": "bearer",
                                                "description": "The token a device received at enrollment."}},
            "schemas": definitions["$defs"],
        },
        "paths": {
            "/api/v1/sync/enroll": {"post": {
                "summary": "Exchange a one-time code for a device token", "operationId": "enroll",
                "requestBody": {"required": True, **_json(schemas.EnrollBody)},
                "responses": {"201": _answer("Enrolled", schemas.Enrolled), **body_refusals,
                              **_refusals(401, 409, 422, 429)}}},
            "/api/v1/sync/status": {"get": {
                "summary": "What the hub has acknowledged", "operationId": "status", "security": _AUTH,
                "parameters": _query_parameters(schemas.StatusQuery),
                "responses": {"200": _answer("Status", schemas.Status), **auth_refusals, **_refusals(400)}}},
            "/api/v1/sync/photos/missing": {"post": {
                "summary": "Which photos the hub lacks", "operationId": "photosMissing", "security": _AUTH,
                "requestBody": {"required": True, **_json(schemas.PhotosMissingBody)},
                "responses": {"200": _answer("Missing hashes", schemas.Missing), **auth_refusals, **body_refusals}}},
            "/api/v1/sync/photos/{sha256}": {"get": {
                "summary": "A photo of this device's own audits (for a device restored from a backup)",
                "operationId": "photoGet", "security": _AUTH, "parameters": [_SHA256],
                "responses": {"200": {"description": "The photo's bytes",
                                      "content": {"application/octet-stream": {}}},
                              **auth_refusals, **_refusals(404)}}, "put": {
                "summary": "Store a photo under its SHA-256", "operationId": "photoPut", "security": _AUTH,
                "parameters": [_SHA256],
                "requestBody": {"required": True, "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {},
                                                              "application/octet-stream": {}}},
                "responses": {"200": _answer("Already held", schemas.PhotoStored),
                              "201": _answer("Stored", schemas.PhotoStored), **auth_refusals,
                              **_refusals(413, 422)}}},
            "/api/v1/sync/push": {"post": {
                "summary": "Apply a batch of changes", "operationId": "push", "security": _AUTH,
                "requestBody": {"required": True, **_json(schemas.PushBody)},
                "responses": {"200": _answer("Acknowledged", schemas.Ack), **auth_refusals, **body_refusals,
                              **_refusals(409, 422)}}},
            "/api/v1/sync/own": {"get": {
                "summary": "This device's own changes the hub holds (for a device restored from a backup)",
                "operationId": "own", "security": _AUTH, "parameters": _query_parameters(schemas.OwnQuery),
                "responses": {"200": _answer("A page", schemas.OwnPage), **auth_refusals, **_refusals(400)}}},
            "/api/v1/sync/pull": {"get": {
                "summary": "Changes for this device after a cursor", "operationId": "pull", "security": _AUTH,
                "parameters": _query_parameters(schemas.PullQuery),
                "responses": {"200": _answer("A page", schemas.Page), **auth_refusals, **_refusals(400)}}},
        },
    }


DOCUMENT = document()  # the name the module exported before the document was generated
