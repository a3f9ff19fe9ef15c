"""Benchmark: every page of one dossier's walk from arrival to archive, per role, at 100,000 demo dossiers.

What it measures
  OURS      for each role working SOP 76 (Front Office, Back Office, Tim Teknis, Kasi Perizinan,
            Kabid Perizinan, Kepala Dinas, Arsiparis) and the Supervisor, the server time (Flask's
            test client, no network) and SQL statements of the pages the walk uses:
              home       the role's home page: its work queue (the Supervisor's office overview)
              dossier    the page of the dossier at the role's stages whose promise runs out first
              confirm    the confirmation of "Lanjutkan" for that dossier (every row judged, nothing
                         written)
              move       the move itself (POST of that confirmation; a different waiting dossier
                         each time, so every request really moves one; Lanjutkan carries it through
                         the role's following stages where their gates hold)
              upload     one paper into its slot on that page (Front Office: the application letter;
                         Tim Teknis: the signed BAP), stored and checked as any upload
              paper      the paper the role prints there (receipt, BAP form, permit), a PDF render
              search     the top-bar search by a receipt number (goes straight to the dossier)
            The demo data is built first (seed.demo, as `loket demo` builds it) unless --keep
            names a folder holding it.
  BASELINE  the Dossier grid's default page (/dossierview/list/) in the same run, by the Front
            Office; every page's ratio is its p50 over the baseline's.
Pages are requested in a rotating order, --warmup times unmeasured, then --repeat times; p50s.

The LAST line printed is one JSON object:
  {"dossiers", "database", "repeat", "baseline": {"ms", "sql"},
   "pages": {role: {page: {"ms" (p50), "sql", "ratio"}}}, "slowest": {"role", "page", "ms"},
   "target_ms" (300, the issue's bound for any page of the walk), "misses" (pages over it)}

Usage: python bench/workbench.py [--dossiers 100000] [--repeat 15] [--warmup 2] [--keep DIR]
       [--database-url postgresql://... (a scratch database, built there if it holds no dossiers)]
"""
from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from demo_app import StatementCounter, demo_app, sign_in, user

TARGET_MS = 300.0
BASELINE = "/dossierview/list/"
# role -> the paper it prints on its part of the walk, or None
WALK = {
    "Front Office": "receipt",
    "Back Office": None,
    "Tim Teknis": "inspection_report",
    "Kasi Perizinan": None,
    "Kabid Perizinan": None,
    "Kepala Dinas": None,
    "Arsiparis": "permit",
}
# role -> the requirement whose slot its measured upload fills (the walk's papers, one at a time)
UPLOADERS = {"Front Office": "SURAT_PERMOHONAN", "Tim Teknis": "BAP_PEMERIKSAAN_LAPANGAN"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def build_app(args: argparse.Namespace, workdir: Path):  # noqa: ANN201
    """The app on the bench database, the demo data built there if it holds none; one user per role."""
    app, demo_seconds, _ = demo_app(args.database_url, workdir, args.dossiers, args.seed)
    if demo_seconds is not None:
        print(f"demo data: {demo_seconds:.1f} s", flush=True)
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Dossier

    users = {role: user(app, "bench_" + role.lower().replace(" ", "_"), role) for role in (*WALK, "Supervisor")}
    with app.app_context():
        dossiers = db.session.scalar(select(func.count()).select_from(Dossier))
    return app, users, dossiers


def _waiting(app, role: str, limit: int) -> list[tuple[int, str]]:  # noqa: ANN001
    """(id, receipt) of dossiers in progress (or issued) at the role's stages, oldest due first."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Dossier, Stage

    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            select(Dossier.id, Dossier.receipt_number).join(Stage, Stage.id == Dossier.stage_id)
            .where(Stage.role_name == role, Dossier.status.in_(("in_progress", "issued")))
            .order_by(Dossier.due_at, Dossier.id).limit(limit)
        )]


def _with_papers(app, dossier_ids: list[int]) -> None:
    """The papers these dossiers still lack at their stage, handed in and verified (as the officer
    does before moving on: the walk's upload is measured on its own), so the move is possible."""
    import datetime as dt

    from app.extensions import db
    from app.models import Document
    from app.sop.guards import unverified_requirements
    from app.sop.machine import load_situations

    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        for situation in load_situations(db.session, dossier_ids).values():
            missing = unverified_requirements(situation.stage, situation.requirements,
                                              set(situation.verified_requirement_ids), situation.dossier.submitted_at)
            db.session.add_all(Document(
                dossier_id=situation.dossier.id, requirement_type_id=r.id, original_filename=f"{r.code.lower()}.pdf",
                storage_key="b" * 64, size_bytes=len(PDF), sha256=f"{situation.dossier.id:032d}{r.id:032d}",
                media_type="application/pdf", uploaded_at=now, verified_at=now,
            ) for r in missing)
        db.session.commit()


def _client(app, user_id: int):  # noqa: ANN001, ANN202
    client = app.test_client()
    sign_in(client, user_id)
    return client


def _confirm_url(dossier_id: int) -> str:
    return f"/dossiermoves/confirm?action=advance&scope=ids&ids={dossier_id}"


def measure(app, users: dict[str, int], repeat: int, warmup: int) -> dict:  # noqa: ANN001, C901
    """Each page warmup + repeat times; the measured samples per (role, page)."""
    from app.extensions import db

    with app.app_context():
        counter = StatementCounter(db.engine)
    from sqlalchemy import select

    from app.models import RequirementType

    with app.app_context():
        slots = {code: db.session.scalar(select(RequirementType.id).where(RequirementType.code == code))
                 for code in UPLOADERS.values()}
    runs = warmup + repeat
    pages: dict[tuple[str, str], object] = {("Front Office", "baseline"): BASELINE}
    movers: dict[str, list[int]] = {}
    for role, paper in WALK.items():
        # Dossiers whose gates hold move; the others are skipped (not measured) when their turn comes.
        waiting = _waiting(app, role, 20 * (runs + 1))
        if len(waiting) < runs + 1:
            raise SystemExit(f"{role}: only {len(waiting)} dossiers wait at its stages; build more demo data")
        shown, receipt = waiting[0]
        pages[(role, "home")] = "/"
        pages[(role, "dossier")] = f"/dossierview/show/{shown}"
        pages[(role, "confirm")] = _confirm_url(shown)
        pages[(role, "search")] = f"/cari/?q={receipt}"
        if paper:
            pages[(role, "paper")] = f"/papers/{shown}/{paper}.pdf"
        movers[role] = [dossier_id for dossier_id, _ in waiting[1:]]
        _with_papers(app, movers[role])
        pages[(role, "move")] = None  # a POST, built per request below
        if role in UPLOADERS:
            pages[(role, "upload")] = shown  # a POST of one new paper, built per request below
    pages[("Supervisor", "home")] = "/"
    clients = {role: _client(app, user_id) for role, user_id in users.items()}
    samples: dict[tuple[str, str], list[dict]] = {key: [] for key in pages}
    keys = list(pages)
    for i in range(runs):
        shift = (i * 7) % len(keys)
        for key in keys[shift:] + keys[:shift]:
            role, page = key
            client = clients[role]
            if page == "move":
                form: dict[str, str] = {}
                while "ids" not in form:
                    if not movers[role]:
                        raise SystemExit(f"{role}: no more dossiers whose move the confirmation offers")
                    confirm = client.get(_confirm_url(movers[role].pop(0))).get_data(as_text=True)
                    form = dict(HIDDEN.findall(confirm))
                counter.count = 0
                started = time.perf_counter()
                response = client.post("/dossiermoves/apply", data=form)
            elif page == "upload":
                token = dict(HIDDEN.findall(client.get(pages[(role, "dossier")]).get_data(as_text=True)))["csrf_token"]
                paper = (io.BytesIO(PDF + f"% {role} {i}\n".encode()), f"surat-{i}.pdf")
                counter.count = 0
                started = time.perf_counter()
                response = client.post(f"/documentfiles/upload/{pages[key]}", data={
                    "csrf_token": token, "verify": "0", f"file_{slots[UPLOADERS[role]]}": paper})
            else:
                counter.count = 0
                started = time.perf_counter()
                response = client.get(pages[key])
            ms = (time.perf_counter() - started) * 1000
            if response.status_code >= 400:
                raise SystemExit(f"{role} {page}: answered {response.status_code}")
            if i >= warmup:
                samples[key].append({"ms": ms, "sql": counter.count})
    return samples


def report(args: argparse.Namespace, dossiers: int, samples: dict) -> dict:
    def p50(key: tuple[str, str], field: str) -> float:
        return statistics.median(s[field] for s in samples[key])

    base = p50(("Front Office", "baseline"), "ms")
    pages: dict[str, dict] = {}
    slowest = {"role": "", "page": "", "ms": 0.0}
    misses = []
    for (role, page), _ in samples.items():
        if page == "baseline":
            continue
        ms = p50((role, page), "ms")
        row = {"ms": round(ms, 1), "sql": int(p50((role, page), "sql")), "ratio": round(ms / base, 2)}
        pages.setdefault(role, {})[page] = row
        print(f"{role:16s} {page:8s} {row['ms']:8.1f} ms {row['sql']:4d} SQL  ratio {row['ratio']:5.2f}")
        if ms > slowest["ms"]:
            slowest = {"role": role, "page": page, "ms": round(ms, 1)}
        if ms > TARGET_MS:
            misses.append(f"{role} {page}")
    print(f"{'baseline':25s} {base:8.1f} ms")
    return {
        "dossiers": dossiers, "database": "postgresql" if args.database_url else "sqlite", "repeat": args.repeat,
        "baseline": {"page": BASELINE, "ms": round(base, 1),
                     "sql": int(p50(("Front Office", "baseline"), "sql"))},
        "pages": pages, "slowest": slowest, "target_ms": TARGET_MS, "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=100_000, help="demo dossiers (when built); default 100000")
    parser.add_argument("--repeat", type=int, default=15, help="measured requests per page; default 15")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured requests per page first; default 2")
    parser.add_argument("--seed", type=int, default=76, help="seed of the demo data; default 76")
    parser.add_argument("--keep", metavar="DIR", help="SQLite: keep the database in DIR and reuse it later "
                        "(each run moves 2 x (repeat + warmup) dossiers per role on)")
    parser.add_argument("--database-url", help="PostgreSQL URL of a scratch database; default a SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loket-workbench-bench-") as scratch:
        workdir = Path(args.keep or scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        app, users, dossiers = build_app(args, workdir)
        samples = measure(app, users, args.repeat, args.warmup)
        result = report(args, dossiers, samples)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
