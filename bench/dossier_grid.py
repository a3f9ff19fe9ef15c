"""Benchmark: Loket's dossier grid against a bare Flask-AppBuilder list page, both at N rows.

What it measures
  OURS      /dossierview/list/ of Loket (first page, default sort: newest submission first) and the
            same page filtered on one stage (`_flt_0_stage=<id>`, FAB's "Relation equal" filter),
            signed in as a Front Office user. Fresh SQLite database in a temp dir: Alembic upgrade,
            role sync, SOP load, then seed.demo.generate(N).
  BASELINE  a bare FAB app: plain Flask + AppBuilder with FAB's default SecurityManager, one
            single-table model with N rows, a ModelView with default settings, a user whose only
            role may list it (and, with --baseline-perms same, the default, show/add/edit it too,
            as Front Office may on dossiers, so both pages draw the same row buttons); its first
            list page.

Each app runs in its own subprocess (two FAB apps do not share a process cleanly); the parent
sends them requests one at a time, interleaved ours/baseline, so both see the same machine noise.
Requests go through Flask's test client (no HTTP server): the numbers are the app's own work,
routing to rendered HTML. Reported: median wall-clock ms per page over --repeat requests after
--warmup requests, and SQL statements per page (SQLAlchemy before_cursor_execute on the engine).

The LAST line printed is one JSON object:
  {"rows", "ours_default_ms", "ours_stage_filter_ms", "baseline_ms", "ratio_default",
   "ratio_stage_filter", "ours_default_sql", "ours_stage_filter_sql", "baseline_sql", "demo_seconds", ...}

Usage: python bench/dossier_grid.py [--rows 100000] [--repeat 30] [--warmup 3] [--seed 76]
                                    [--stage PENGARSIPAN]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECEIPT = re.compile(r"IPK-\d{2}-[0-9A-Z]{6}")
ITEM = re.compile(r"Barang \d{6}")
# What the baseline user may do on its model. 'same' mirrors Front Office on dossiers, so both
# pages draw the same buttons per row.
BASELINE_PERMS = {"same": ("can_list", "can_show", "can_add", "can_edit"), "list": ("can_list",)}


# --------------------------------------------------------------------------- workers

class _Counter:
    def __init__(self, engine) -> None:  # noqa: ANN001
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *args) -> None:  # noqa: ANN002
        self.count += 1


def _serve(client, counter: _Counter, pages: dict[str, tuple[str, re.Pattern, str]]) -> None:  # noqa: ANN001
    """Answers 'GET <page>' lines on stdin with one JSON line each; 'QUIT' ends."""
    for line in sys.stdin:
        command = line.strip()
        if command == "QUIT":
            return
        name = command.split(" ", 1)[1]
        url, row_pattern, must_contain = pages[name]
        counter.count = 0
        started = time.perf_counter()
        response = client.get(url)
        ms = (time.perf_counter() - started) * 1000
        body = response.get_data(as_text=True)
        rows = len(set(row_pattern.findall(body)))
        ok = response.status_code == 200 and rows > 0 and must_contain in body
        print(json.dumps({"ms": ms, "sql": counter.count, "status": response.status_code, "rows": rows, "ok": ok}), flush=True)


def worker_ours(rows: int, seed: int, stage_code: str, workdir: Path) -> None:
    os.environ["LOKET_INSTANCE_PATH"] = str(workdir)
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.bootstrap import load_sop_files
    from app.extensions import db
    from app.models import Dossier, Stage
    from app.security.roles import FRONT_OFFICE
    from app.security.sync import sync_roles
    from config import Config
    from seed.demo import generate

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{workdir / 'loket.db'}"
        SECRET_KEY = secrets.token_urlsafe(32)
        RATELIMIT_ENABLED = False
        RATELIMIT_STORAGE_URI = "memory://"
        FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

    reuse = (workdir / "loket.db").exists()
    app = create_app(BenchConfig)
    with app.app_context():
        sm = app.appbuilder.sm
        if reuse:
            summary, demo_seconds = "(database reused from --keep)", None
            user = sm.find_user(username="fo_bench")
        else:
            upgrade()
            sync_roles(app.appbuilder)
            load_sop_files()
            started = time.perf_counter()
            summary = generate(rows, seed)
            demo_seconds = time.perf_counter() - started
            user = sm.add_user(
                "fo_bench", FRONT_OFFICE, "Bench", "fo.bench@uji.example", sm.find_role(FRONT_OFFICE), password="x"
            )
        stage = db.session.scalar(select(Stage).where(Stage.code == stage_code))
        newest = db.session.scalar(select(Dossier.receipt_number).order_by(Dossier.submitted_at.desc(), Dossier.id.desc()))
        newest_in_stage = db.session.scalar(
            select(Dossier.receipt_number).where(Dossier.stage_id == stage.id).order_by(Dossier.submitted_at.desc())
        )
        in_stage = db.session.query(Dossier).filter(Dossier.stage_id == stage.id).count()
        user_id, stage_id = user.id, stage.id
        counter = _Counter(db.engine)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session["locale"] = "id"
    pages = {
        "default": ("/dossierview/list/", RECEIPT, newest),
        "stage": (f"/dossierview/list/?_flt_0_stage={stage_id}", RECEIPT, newest_in_stage),
    }
    print(json.dumps({"ready": True, "demo_seconds": demo_seconds, "summary": summary, "stage_rows": in_stage}), flush=True)
    _serve(client, counter, pages)


def worker_baseline(rows: int, workdir: Path, perms: tuple[str, ...]) -> None:
    from flask import Flask
    from flask_appbuilder import AppBuilder, Model, ModelView
    from flask_appbuilder.models.sqla.base import SQLA
    from flask_appbuilder.models.sqla.interface import SQLAInterface
    from sqlalchemy import Column, DateTime, Integer, String

    class Item(Model):
        __tablename__ = "item"
        id = Column(Integer, primary_key=True)
        name = Column(String(150), nullable=False)
        code = Column(String(20), unique=True, nullable=False)
        created_at = Column(DateTime)

        def __repr__(self) -> str:
            return self.name

    class ItemModelView(ModelView):
        datamodel = SQLAInterface(Item)

    reuse = (workdir / "baseline.db").exists()
    db = SQLA()
    app = Flask("baseline")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{workdir / 'baseline.db'}",
        SECRET_KEY=secrets.token_urlsafe(32),
        FAB_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
    )
    db.init_app(app)
    with app.app_context():
        db.create_all()
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        appbuilder.add_view(ItemModelView, "Items")
        sm = appbuilder.sm
        if reuse:
            user_id = sm.find_user(username="lister").id
        else:
            _fill_items(db, Item, rows)
            role = sm.add_role("Lister")
            for perm in perms:
                sm.add_permission_role(role, sm.find_permission_view_menu(perm, "ItemModelView"))
            sm.add_permission_role(role, sm.find_permission_view_menu("menu_access", "Items"))
            user_id = sm.add_user("lister", "Bench", "Lister", "lister@uji.example", role, password="x").id
        first = db.session.scalar(db.select(Item.name).order_by(Item.id))
        counter = _Counter(db.engine)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    print(json.dumps({"ready": True}), flush=True)
    _serve(client, counter, {"default": ("/itemmodelview/list/", ITEM, first)})


def _fill_items(db, item_model, rows: int) -> None:  # noqa: ANN001
    import datetime as dt

    from sqlalchemy import insert

    start = dt.datetime(2025, 1, 1)
    with db.engine.begin() as conn:
        for first in range(1, rows + 1, 10_000):
            conn.execute(
                insert(item_model.__table__),
                [
                    {"name": f"Barang {i:06d}", "code": f"B{i:08d}", "created_at": start + dt.timedelta(minutes=i)}
                    for i in range(first, min(first + 10_000, rows + 1))
                ],
            )


# --------------------------------------------------------------------------- parent

class _Worker:
    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.ready: dict | None = None

    def wait_ready(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"worker {self.proc.args[2:]} died while preparing (exit {self.proc.wait()})")
        self.ready = json.loads(line)
        return self.ready

    def get(self, page: str) -> dict:
        self.proc.stdin.write(f"GET {page}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"worker {self.proc.args[2:]} died (exit {self.proc.wait()})")
        result = json.loads(line)
        if not result["ok"]:
            raise SystemExit(f"{page}: unexpected page {result}")
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("QUIT\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=100_000, help="dossiers (ours) and items (baseline); default 100000")
    parser.add_argument("--repeat", type=int, default=30, help="measured requests per page; default 30")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per page first; default 3")
    parser.add_argument("--seed", type=int, default=76, help="seed of the demo data; default 76")
    parser.add_argument(
        "--stage", default="PENGARSIPAN", help="stage code for the filtered page; default PENGARSIPAN (the largest)"
    )
    parser.add_argument(
        "--baseline-perms",
        choices=sorted(BASELINE_PERMS),
        default="same",
        help="baseline user's permissions on its model: 'same' as Front Office has on dossiers "
        "(list, show, add, edit: same row buttons) or 'list' only; default same",
    )
    parser.add_argument(
        "--keep", metavar="DIR", help="keep both databases in DIR and reuse them on later runs with the same DIR (and --rows)"
    )
    parser.add_argument("--worker", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "ours":
        return worker_ours(args.rows, args.seed, args.stage, Path(args.dir))
    if args.worker == "baseline":
        return worker_baseline(args.rows, Path(args.dir), BASELINE_PERMS[args.baseline_perms])

    with tempfile.TemporaryDirectory(prefix="loket-bench-") as scratch:
        tmp = args.keep or scratch
        common = ["--rows", str(args.rows), "--seed", str(args.seed), "--stage", args.stage, "--baseline-perms", args.baseline_perms]
        (Path(tmp) / "ours").mkdir(parents=True, exist_ok=True)
        (Path(tmp) / "baseline").mkdir(parents=True, exist_ok=True)
        ours = _Worker(["--worker", "ours", "--dir", str(Path(tmp) / "ours"), *common])
        baseline = _Worker(["--worker", "baseline", "--dir", str(Path(tmp) / "baseline"), *common])
        try:
            info = ours.wait_ready()
            baseline.wait_ready()
            print(info["summary"])
            if info["demo_seconds"] is not None:
                print(f"demo data: {info['demo_seconds']:.1f} s for {args.rows} dossiers")
            print(f"stage filter {args.stage}: {info['stage_rows']} dossiers; baseline permissions: {args.baseline_perms}")
            plan = [("ours_default", ours, "default"), ("ours_stage_filter", ours, "stage"), ("baseline", baseline, "default")]
            results: dict[str, list[dict]] = {name: [] for name, _, _ in plan}
            for i in range(args.warmup + args.repeat):
                # Rotate the order so no page always runs right after the same other one.
                for name, worker, page in plan[i % 3 :] + plan[: i % 3]:
                    result = worker.get(page)
                    if i >= args.warmup:
                        results[name].append(result)
        finally:
            ours.close()
            baseline.close()

    summary: dict[str, float | int] = {"rows": args.rows}
    for name, samples in results.items():
        ms = statistics.median(r["ms"] for r in samples)
        sql = statistics.median(r["sql"] for r in samples)
        summary[f"{name}_ms"] = round(ms, 2)
        summary[f"{name}_sql"] = int(sql)
        print(
            f"{name:18s} median {ms:8.2f} ms  (min {min(r['ms'] for r in samples):.2f}, "
            f"max {max(r['ms'] for r in samples):.2f})  {int(sql)} SQL statements  {samples[0]['rows']} rows shown"
        )
    summary["ratio_default"] = round(summary["ours_default_ms"] / summary["baseline_ms"], 3)
    summary["ratio_stage_filter"] = round(summary["ours_stage_filter_ms"] / summary["baseline_ms"], 3)
    summary["demo_seconds"] = None if info["demo_seconds"] is None else round(info["demo_seconds"], 1)
    summary["repeat"] = args.repeat
    summary["stage"] = args.stage
    summary["baseline_perms"] = args.baseline_perms
    print(f"ratio ours/baseline: default {summary['ratio_default']}, stage filter {summary['ratio_stage_filter']}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
