"""Shared benchmark helpers: percentiles, a keep-alive HTTP client with cookies, reporting."""

from __future__ import annotations

import http.client
import json
import re
import statistics
import time
from urllib.parse import urlencode


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of the samples."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(name: str, samples_s: list[float]) -> dict:
    """p50, p95, mean and count in milliseconds."""
    ms = [s * 1000 for s in samples_s]
    return {"name": name, "n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


class Client:
    """One keep-alive connection, a cookie jar of one session cookie, CSRF from the pages."""

    def __init__(self, host: str, port: int):
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.cookie = ""
        self.csrf = ""

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
        body = urlencode(form or {}, doseq=True) if form is not None else None
        sent = {"Cookie": self.cookie, **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["X-CSRFToken"] = self.csrf
        self.conn.request(method, path, body=body, headers=sent)
        response = self.conn.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("pantau_session="):
                self.cookie = value.split(";", 1)[0]
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)
        return response.status, text

    def timed(self, method: str, path: str, form: dict | None = None, headers: dict | None = None,
              expect: int = 200) -> float:
        start = time.perf_counter()
        status, text = self.request(method, path, form, headers)
        elapsed = time.perf_counter() - start
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {text[:300]}")
        return elapsed


def report(title: str, rows: list[dict], extra: dict | None = None) -> None:
    """Print a table for people and one JSON line for tools."""
    print(f"\n{title}")
    print(f"{'measure':<34}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'p95/base':>10}")
    base = rows[0]["p95_ms"] or 1e-9
    for row in rows:
        print(f"{row['name']:<34}{row['n']:>6}{row['p50_ms']:>10.2f}{row['p95_ms']:>10.2f}{row['mean_ms']:>10.2f}"
              f"{row['p95_ms'] / base:>10.1f}")
    for key, value in (extra or {}).items():
        print(f"{key}: {value}")
    print(json.dumps({"benchmark": title, "results": rows, **(extra or {})}))
