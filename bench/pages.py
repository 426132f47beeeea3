"""Checklist pages against the real app (waitress, SQLite): page render, one answer save, a submit.

An 80-item checklist (ynp items, relevance, a constrained integer, choices) is installed into the
data folder, the demo is loaded, and a client on one keep-alive connection measures each request.
The baseline, measured in the same run, is GET /healthz: the cost of any request through the stack.
The page is also measured on a server with the card cache off (survey.cards), as a worker's first view costs.
A 300-question form with two repeats of 20 entries each (1,060 answer slots, calculations over the
entries) is measured the same way and reported against the 80-item figures of the same run.

    python -m bench.pages [--requests N]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import uuid
from pathlib import Path

import yaml

from bench.common import Client, report, summary
from tests.support import ServerProcess

TARGETS = {"answer save": 15.0, "checklist page": 30.0}


def bench_checklist(items: int = 80) -> dict:
    """A realistic 80-item checklist: 8 sections of 10, mostly ynp, with skip logic and a constraint."""
    sections = []
    for s in range(items // 10):
        rows = []
        for i in range(10):
            n = s * 10 + i
            item = {"id": f"q{n:03d}", "type": "ynp", "required": True, "weight": 1 + n % 3,
                    "label": {"id": f"Butir pemeriksaan nomor {n} tentang keselamatan anak", "en": f"Check {n} on child safety"},
                    "hint": {"id": "Amati langsung di lokasi.", "en": "Observe on site."}}
            if i == 9:
                item["relevant"] = f"${{q{n - 1:03d}}} = 'ya'"
            if n % 20 == 5:
                item = {"id": f"q{n:03d}", "type": "integer", "required": True, "min": 0, "max": 500,
                        "label": {"id": f"Jumlah {n}", "en": f"Count {n}"}, "constraint": ". <= 400",
                        "constraint_message": {"id": "Paling banyak 400.", "en": "At most 400."}}
            if n % 20 == 7:
                item = {"id": f"q{n:03d}", "type": "select_one", "required": True,
                        "label": {"id": f"Pilihan {n}", "en": f"Choice {n}"},
                        "choices": [{"value": v, "label": {"id": v.title(), "en": v.title()}} for v in ("baik", "sedang", "buruk")]}
            rows.append(item)
        sections.append({"id": f"bagian_{s}", "title": {"id": f"Bagian {s}", "en": f"Section {s}"},
                         "source": "bench: synthetic", "items": rows})
    return {"id": "bench80", "version": 1, "title": {"id": "Daftar periksa 80 butir", "en": "80-item checklist"},
            "facility_kinds": ["all"], "source": "bench: synthetic", "source_status": "unverified",
            "scoring": {"memenuhi_min": 0.8}, "sections": sections}


def bench_large(top: int = 260, per_repeat: int = 20) -> dict:
    """300 questions: `top` outside repeats, and two repeats of `per_repeat` questions each (plus calculations)."""
    base = bench_checklist(top)
    for section in base["sections"]:
        for item in section["items"]:
            item["required"] = False
    for name in ("peralatan", "ruang"):
        members = [{"id": f"{name}_{n:02d}", "type": "ynp", "weight": 1,
                    "label": {"id": f"{name.title()}: butir {n}", "en": f"{name.title()}: check {n}"}}
                   for n in range(per_repeat)]
        members.append({"id": f"{name}_baik", "type": "calculate",
                        "calculation": f"if(${{{name}_00}} = 'ya', 1, 0)"})
        base["sections"].append({
            "id": f"bagian_{name}", "title": {"id": name.title(), "en": name.title()}, "source": "bench: synthetic",
            "items": [{"id": name, "type": "repeat", "label": {"id": name.title(), "en": name.title()},
                       "items": members},
                      {"id": f"{name}_total", "type": "calculate", "calculation": f"sum(${{{name}_baik}})",
                       "label": {"id": f"{name.title()} baik", "en": f"{name.title()} good"}}]})
    base.update(id="bench300", title={"id": "Formulir 300 pertanyaan", "en": "300-question form"})
    return base


def answer_for(item: dict, round_: int) -> str:
    if item["type"] == "integer":
        return str(10 + round_ % 50)
    if item["type"] == "select_one":
        return ("baik", "sedang", "buruk")[round_ % 3]
    return ("ya", "sebagian", "tidak")[round_ % 3]


def prefill(db_path: Path, audit_ids: list[str], checklist: dict) -> None:
    """Answers and a position for audits that will be submitted, written straight into the database."""
    items = [i for s in checklist["sections"] for i in s["items"]]
    with sqlite3.connect(db_path) as conn:
        for audit_id in audit_ids:
            key = uuid.UUID(audit_id).hex
            rows = [(key, i["id"], json.dumps(int(answer_for(i, 0)) if i["type"] == "integer" else answer_for(i, 0)))
                    for i in items]
            conn.executemany("INSERT OR REPLACE INTO answer (audit_id, item_id, value, updated_at) "
                             "VALUES (?, ?, ?, '2026-11-20 02:00:00')", rows)
            conn.execute("UPDATE audit SET lat = -6.1151, lon = 106.1601, accuracy_m = 8, position_source = 'gps', "
                         "position_at = '2026-11-20 02:00:00' WHERE id = ?", (key,))


def run(requests: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        checklist = bench_checklist()
        (instance / "checklists").mkdir()
        (instance / "checklists" / "bench80-v1.yaml").write_text(yaml.safe_dump(checklist, allow_unicode=True))
        large = bench_large()
        (instance / "checklists" / "bench300-v1.yaml").write_text(yaml.safe_dump(large, allow_unicode=True))
        server = ServerProcess(instance, env={"PANTAU_SECURE_COOKIES": "0"})
        server.init()
        server.start()
        try:
            client = Client("127.0.0.1", server.port)
            client.request("GET", "/login")
            client.request("POST", "/login", {"username": "auditor", "password": "demo", "csrf_token": client.csrf})
            status, page = client.request("GET", "/facilities/?kecamatan=36.73.01")
            facility = page.split('href="/facilities/', 2)[2].split('"', 1)[0]
            audit_ids = []
            for _ in range(requests + 1):
                status, _text = client.request("POST", f"/facilities/{facility}/audits/new",
                                               {"checklist": "bench80@1", "csrf_token": client.csrf})
                # Each start resumes the open draft, so submit it before starting the next.
                audit_ids.append(_latest_draft(instance / "pantau.db"))
                _mark_submitted(instance / "pantau.db", audit_ids[-1])
            work = audit_ids[0]
            # Only the audit being measured is a draft while pages and saves are timed: 200 open drafts at one
            # facility would fill its page with "also in progress" links no auditor has.
            _reopen(instance / "pantau.db", [work])
            items = [i for s in checklist["sections"] for i in s["items"] if "relevant" not in i]
            base = [client.timed("GET", "/healthz") for _ in range(requests)]
            pages = [client.timed("GET", f"/audits/{work}") for _ in range(requests)]
            saves = [client.timed("POST", f"/audits/{work}/answers/{items[n % len(items)]['id']}",
                                  {"value": answer_for(items[n % len(items)], n)}, {"HX-Request": "true"})
                     for n in range(requests)]
            _reopen(instance / "pantau.db", audit_ids[1:])
            prefill(instance / "pantau.db", audit_ids[1:], checklist)
            submits = [client.timed("POST", f"/audits/{a}/submit", {"csrf_token": client.csrf}, expect=302)
                       for a in audit_ids[1:]]
            big_pages, big_saves = _large_form(client, instance / "pantau.db", facility, large, requests)
        finally:
            server.stop()
        uncached = _without_card_cache(instance, work, requests)
    return [summary("baseline: GET /healthz", base), summary("checklist page", pages),
            summary("answer save", saves), summary("submit", submits),
            summary("300-question page (2 x 20 entries)", big_pages), summary("300-question answer save", big_saves),
            summary("checklist page, card cache off", uncached)]


def _without_card_cache(instance: Path, audit: str, requests: int) -> list[float]:
    """The 80-item page with every card rendered each time (PANTAU_CARD_CACHE_SIZE=0): a worker's first view
    of a checklist costs this, and what survey.cards saves is the difference."""
    server = ServerProcess(instance, env={"PANTAU_SECURE_COOKIES": "0", "PANTAU_CARD_CACHE_SIZE": "0"})
    server.start()
    try:
        client = Client("127.0.0.1", server.port)
        client.request("GET", "/login")
        client.request("POST", "/login", {"username": "auditor", "password": "demo", "csrf_token": client.csrf})
        return [client.timed("GET", f"/audits/{audit}") for _ in range(requests)]
    finally:
        server.stop()


def _large_form(client: Client, db: Path, facility: str, large: dict, requests: int) -> tuple[list, list]:
    """The 300-question form with both repeats at 20 entries: its page, and saves in and outside the entries."""
    client.request("POST", f"/facilities/{facility}/audits/new", {"checklist": "bench300@1", "csrf_token": client.csrf})
    audit = _latest_draft(db)
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT OR REPLACE INTO answer (audit_id, item_id, value, updated_at, version) "
                         "VALUES (?, ?, '20', '2026-11-20 02:00:00', 1)",
                         [(uuid.UUID(audit).hex, name) for name in ("peralatan", "ruang")])
    top = [i for s in large["sections"] for i in s["items"] if i["type"] != "repeat" and "relevant" not in i
           and i["type"] != "calculate"]
    inside = [f"peralatan[{1 + n % 20}]/peralatan_{n % 20:02d}" for n in range(requests)]
    pages = [client.timed("GET", f"/audits/{audit}") for _ in range(requests)]
    saves = []
    for n in range(requests):
        if n % 2:
            address, value = inside[n], ("ya", "tidak", "sebagian")[n % 3]
        else:
            item = top[n % len(top)]
            address, value = item["id"], answer_for(item, n)
        saves.append(client.timed("POST", f"/audits/{audit}/answers/{address}", {"value": value},
                                  {"HX-Request": "true"}))
    return pages, saves


def _latest_draft(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT id FROM audit WHERE status = 'draft' ORDER BY started_at DESC LIMIT 1").fetchone()
    return str(uuid.UUID(row[0]))


def _mark_submitted(db: Path, audit_id: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit SET status = 'submitted' WHERE id = ?", (uuid.UUID(audit_id).hex,))


def _reopen(db: Path, audit_ids: list[str]) -> None:
    with sqlite3.connect(db) as conn:
        conn.executemany("UPDATE audit SET status = 'draft' WHERE id = ?", [(uuid.UUID(a).hex,) for a in audit_ids])


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests per measure (at least 200 for the record)")
    args = parser.parse_args(argv)
    rows = run(args.requests)
    verdicts = {f"target {name} p95 < {limit} ms": next(r for r in rows if r["name"] == name)["p95_ms"] < limit
                for name, limit in TARGETS.items()}
    by_name = {r["name"]: r for r in rows}
    for large, small in (("300-question page (2 x 20 entries)", "checklist page"),
                         ("300-question answer save", "answer save"), ("checklist page, card cache off", "checklist page")):
        by_name[large]["vs_80_item_p95"] = round(by_name[large]["p95_ms"] / by_name[small]["p95_ms"], 2)
    report("pages: 80-item checklist and a 300-question form with repeats, on SQLite", rows, verdicts)
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
