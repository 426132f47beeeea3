"""The device side of the HTTP protocol: push, pull, enroll. Each batch is its own transaction."""

from __future__ import annotations

import errno
import gzip
import http.client
import json
import logging
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass

from app.problems import N_
from sync.problems import SYNC_PROBLEMS, SyncError

TIMEOUT = 60
log = logging.getLogger(__name__)


@dataclass
class Hub:
    """A hub's address and this device's token."""

    url: str
    token: str | None = None

    def call(self, method: str, path: str, body: dict | bytes | None = None, content_type: str = "application/json") -> dict:
        """One request; JSON in and out, gzip both ways; an error answer becomes a SyncError."""
        raw, encoding = self._request(method, path, body, content_type, "application/json")
        return _decode(raw, encoding)

    def fetch(self, path: str) -> bytes:
        """A binary answer (a photo) as the hub sent it; an error answer becomes a SyncError."""
        raw, encoding = self._request("GET", path, None, "application/json", "application/octet-stream")
        return gzip.decompress(raw) if encoding == "gzip" else raw

    def _request(self, method: str, path: str, body, content_type: str, accept: str) -> tuple[bytes, str | None]:
        data, headers = None, {"Accept-Encoding": "gzip", "Accept": accept}
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
                return response.read(), response.headers.get("Content-Encoding")
        except urllib.error.HTTPError as error:
            answer = _decode(error.read(), error.headers.get("Content-Encoding"), strict=False)
            problem = answer.get("error") if isinstance(answer, dict) and isinstance(answer.get("error"), dict) else {}
            refusal = hub_refusal(error.code, problem.get("code"), problem.get("message"))
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:  # timeouts and resets are OSError
            refusal = unreachable(error)
        log.warning("sync %s %s failed: %s (%s)", method, path, refusal.code, refusal.params.get("detail"))
        raise refusal


# The hub's refusals that this device explains in its own words (the hub's own text is in the hub's language).
HUB_REFUSALS = {
    "sync.unauthorized": N_("The hub no longer knows this device. Ask the supervisor to register it again on the "
                            "hub, then enroll it with the new code."),
    "sync.unknown_device": N_("The hub no longer knows this device. Ask the supervisor to register it again on the "
                              "hub, then enroll it with the new code."),
    "sync.revoked_device": N_("This device was revoked on the hub and can no longer sync. Ask the supervisor."),
    "sync.too_large": N_("The hub refused a request as too large for it. Tell the hub's administrator."),
}


def hub_refusal(status: int, code: str | None, hub_message: str | None) -> SyncError:
    """The hub answered with an error: its stable code when it gave one, the words for the HTTP status if not."""
    detail = f"HTTP {status}" + (f" {code}: {hub_message}" if code else "")
    if code in HUB_REFUSALS:
        return SyncError(code, HUB_REFUSALS[code], status=status, detail=detail)
    if code and hub_message:
        return SyncError(code, N_("The hub refused: %(reason)s"), status=status, reason=str(hub_message)[:200],
                         detail=detail)
    if status in (401, 403):
        return SyncError(f"http.{status}", HUB_REFUSALS["sync.unauthorized"], status=status, detail=detail)
    if status == 404:
        message = N_("No Pantau KLA hub answers at this address. Check the hub address with the supervisor.")
    elif status == 413:
        message = HUB_REFUSALS["sync.too_large"]
    elif status == 429:
        message = N_("The hub is busy with too many requests. Wait a few minutes, then sync again.")
    elif status >= 500:
        message = N_("The hub had a problem of its own (HTTP %(http)d). Sync again later; if it stays, tell the "
                     "hub's administrator.")
    else:
        message = N_("The hub refused the request (HTTP %(http)d).")
    return SyncError(f"http.{status}", message, status=502 if status >= 500 else status, http=status, detail=detail)


def unreachable(error: BaseException) -> SyncError:
    """A request that got no answer from the hub, in words; the exception's own text only as the detail."""
    reason = getattr(error, "reason", None)
    cause = reason if isinstance(reason, BaseException) else error  # URLError wraps the socket's error
    detail = f"{type(cause).__name__}: {cause}"[:200]
    if isinstance(cause, ssl.SSLCertVerificationError):
        code, message = "sync.tls", N_("The hub's security certificate could not be verified. Check the hub "
                                       "address with the supervisor (https:// or http://).")
    elif isinstance(cause, ssl.SSLError):
        code, message = "sync.tls", N_("The secure connection (HTTPS) to the hub failed. Check that the hub "
                                       "address starts with https:// or http:// as the supervisor gave it.")
    elif isinstance(cause, (socket.timeout, TimeoutError)):
        code, message = "sync.timeout", N_("The hub did not answer in time. The network may be slow: sync again "
                                           "when the connection is better; nothing is lost.")
    elif isinstance(cause, socket.gaierror):
        code, message = "sync.unreachable", N_("The hub's address could not be found. Check the address and that "
                                               "this device is connected to the network.")
    elif isinstance(cause, ConnectionRefusedError):
        code, message = "sync.unreachable", N_("Nothing answers at the hub's address. Check that the hub is "
                                               "running and that the address and port are right.")
    elif isinstance(cause, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.HTTPException)):
        code, message = "sync.unreachable", N_("The connection to the hub was cut off. Check the network and sync "
                                               "again; nothing is lost.")
    elif isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
        code, message = "sync.unreachable", N_("This device has no network path to the hub. Connect to Wi-Fi or "
                                               "mobile data, then sync again.")
    else:
        code, message = "sync.unreachable", N_("The hub cannot be reached. Check the network and sync again.")
    return SyncError(code, message, status=504 if code == "sync.timeout" else 503, detail=detail)


NETWORK_WORDS = {
    "sync.unreachable": N_("The hub could not be reached. Check the network and sync again; nothing is lost."),
    "sync.timeout": N_("The hub did not answer in time. Sync again when the connection is better; nothing is lost."),
    "sync.tls": N_("The secure connection (HTTPS) to the hub failed. Check the hub address with the supervisor."),
}


@dataclass(frozen=True)
class LastProblem:
    """A device's remembered sync problem: words for the headline, the code and detail for a closed <details>."""

    message: str  # an English msgid, translated when shown
    code: str
    detail: str


def last_problem(stored: str | None) -> LastProblem | None:
    """The problem the last sync left ("code detail", as sync.run remembers it), in words."""
    if not stored:
        return None
    code, _, detail = stored.partition(" ")
    message = HUB_REFUSALS.get(code) or NETWORK_WORDS.get(code) or N_(
        "The last sync did not finish. Sync again; if it fails again, tell the supervisor the code below.")
    return LastProblem(message, code, detail)


def _decode(raw: bytes, encoding: str | None, strict: bool = True) -> dict:
    try:
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw or b"{}")
    except (ValueError, OSError):
        if strict:
            raise SYNC_PROBLEMS("sync.bad_answer") from None
        return {}
