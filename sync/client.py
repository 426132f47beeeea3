"""The device side of the HTTP protocol: push, pull, enroll. Each batch is its own transaction."""

from __future__ import annotations

import gzip
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

from app.problems import N_
from sync.changes import SyncError

TIMEOUT = 60


@dataclass
class Hub:
    """A hub's address and this device's token."""

    url: str
    token: str | None = None

    def call(self, method: str, path: str, body: dict | bytes | None = None, content_type: str = "application/json") -> dict:
        """One request; JSON in and out, gzip both ways; an error answer becomes a SyncError."""
        data, headers = None, {"Accept-Encoding": "gzip", "Accept": "application/json"}
        if isinstance(body, dict):
            data = gzip.compress(json.dumps(body, separators=(",", ":")).encode(), 6)
            headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        elif body is not None:
            data = body
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return _decode(response.read(), response.headers.get("Content-Encoding"))
        except urllib.error.HTTPError as error:
            answer = _decode(error.read(), error.headers.get("Content-Encoding"), strict=False)
            problem = answer.get("error") or {}
            raise SyncError(problem.get("code") or f"http.{error.code}",
                            N_("The hub refused: %(reason)s"), status=error.code,
                            reason=problem.get("message") or str(error.code)) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as error:
            raise SyncError("sync.unreachable", N_("The hub cannot be reached (%(reason)s). Check the network and try again."),
                            status=503, reason=str(getattr(error, "reason", error))[:100]) from None


def _decode(raw: bytes, encoding: str | None, strict: bool = True) -> dict:
    try:
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw or b"{}")
    except (ValueError, OSError):
        if strict:
            raise SyncError("sync.bad_answer", N_("The hub sent an answer this app cannot read.")) from None
        return {}
