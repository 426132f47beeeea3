"""The OpenAPI 3.1 description of the sync API, served at /api/v1/openapi.json."""

_ERROR = {"description": "Refused: a stable error code and a message",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_AUTH = [{"deviceToken": []}]


def _json(schema: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Pantau KLA sync API", "version": "1",
             "description": "Devices and hubs exchange changes (audits, facility edits, reviews, checklists, regions, "
                            "users). See docs/sync.md for the model and rules. Bodies may be gzip-encoded."},
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"deviceToken": {"type": "http", "scheme": "bearer",
                                            "description": "The token a device received at enrollment."}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string", "examples": ["sync.unauthorized"]}, "message": {"type": "string"}}}}},
            "Change": {"type": "object", "required": ["origin_id", "origin_seq", "kind", "entity_id", "hlc", "payload"],
                       "properties": {"origin_id": {"type": "string", "format": "uuid"},
                                      "origin_seq": {"type": "integer", "minimum": 1},
                                      "kind": {"enum": ["checklist", "wilayah", "user", "facility", "audit", "review"]},
                                      "entity_id": {"type": "string", "maxLength": 80},
                                      "hlc": {"type": "string", "pattern": "^[0-9]{16}\\.[0-9]{4}$"},
                                      "payload": {"type": "object"}, "scope": {"type": ["string", "null"]}}},
            "Entry": {"type": "object", "required": ["local_seq", "change"],
                      "properties": {"local_seq": {"type": "integer", "minimum": 1},
                                     "change": {"$ref": "#/components/schemas/Change"}}},
            "Enroll": {"type": "object", "required": ["code", "device_id"],
                       "properties": {"code": {"type": "string", "examples": ["K7QD-9MXA"]},
                                      "device_id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
                                      "role": {"enum": ["field", "hub"]}}},
            "Enrolled": {"type": "object", "properties": {"token": {"type": "string"}, "device_key": {"type": "string"},
                                                         "hub_id": {"type": "string"}, "hub_name": {"type": "string"}}},
            "Status": {"type": "object", "properties": {"hub_id": {"type": "string"}, "acked_seq": {"type": "integer"},
                                                       "schema_version": {"type": "integer"},
                                                       "scope": {"type": "array", "items": {"type": "string"}}}},
            "Push": {"type": "object", "required": ["after", "up_to", "entries"],
                     "properties": {"after": {"type": "integer", "description": "the last position the hub acknowledged"},
                                    "up_to": {"type": "integer", "description": "the sender's position this batch reaches"},
                                    "entries": {"type": "array", "maxItems": 2000, "items": {"$ref": "#/components/schemas/Entry"}}}},
            "Ack": {"type": "object", "properties": {k: {"type": "integer"} for k in
                                                    ("acked_seq", "applied", "duplicates", "waiting", "conflicts")}},
            "Page": {"type": "object", "properties": {"entries": {"type": "array", "items": {"$ref": "#/components/schemas/Entry"}},
                                                     "cursor": {"type": "integer"}, "more": {"type": "boolean"}}},
        },
    },
    "paths": {
        "/api/v1/sync/enroll": {"post": {"summary": "Exchange a one-time code for a device token", "operationId": "enroll",
                                         "requestBody": {"required": True, **_json("Enroll")},
                                         "responses": {"201": {"description": "Enrolled", **_json("Enrolled")}, "401": _ERROR, "422": _ERROR}}},
        "/api/v1/sync/status": {"get": {"summary": "What the hub has acknowledged", "operationId": "status", "security": _AUTH,
                                        "responses": {"200": {"description": "Status", **_json("Status")}, "401": _ERROR, "403": _ERROR}}},
        "/api/v1/sync/photos/missing": {"post": {
            "summary": "Which photos the hub lacks", "operationId": "photosMissing", "security": _AUTH,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"sha256": {"type": "array", "items": {"type": "string"}}}}}}},
            "responses": {"200": {"description": "Missing hashes", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"missing": {"type": "array", "items": {"type": "string"}}}}}}},
                          "401": _ERROR}}},
        "/api/v1/sync/photos/{sha256}": {"put": {
            "summary": "Store a photo under its SHA-256", "operationId": "photoPut", "security": _AUTH,
            "parameters": [{"name": "sha256", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}],
            "requestBody": {"required": True, "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
            "responses": {"200": {"description": "Already held"}, "201": {"description": "Stored"}, "401": _ERROR, "422": _ERROR}}},
        "/api/v1/sync/push": {"post": {"summary": "Apply a batch of changes", "operationId": "push", "security": _AUTH,
                                       "requestBody": {"required": True, **_json("Push")},
                                       "responses": {"200": {"description": "Acknowledged", **_json("Ack")},
                                                     "400": _ERROR, "401": _ERROR, "409": _ERROR, "422": _ERROR}}},
        "/api/v1/sync/pull": {"get": {"summary": "Changes for this device after a cursor", "operationId": "pull", "security": _AUTH,
                                      "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                                                     {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 2000}}],
                                      "responses": {"200": {"description": "A page", **_json("Page")}, "401": _ERROR}}},
    },
}
