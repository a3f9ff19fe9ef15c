"""Benchmark: Loket's big staff grids and the dossier page against bare Flask-AppBuilder pages of the same shape.

What it measures
  OURS      the six big grids of Loket (Dossier, Company, Applicant, Document, History, Register),
            each on four pages: the default page (default sort), a filtered page (one text filter,
            a value taken from the data, e.g. receipt number starts with "IPK-26-3A"), a sorted
            page (another column, e.g. receipt number ascending) and page 2000 (or the last page
            of a smaller table); plus the dossier page /dossierview/show/<id> of the newest
            dossier with a numbered permit (history, documents, permit, register line). Signed in
            as a Back Office officer (the one role that lists all six). Data: Alembic upgrade, role
            sync, SOP load, then seed.demo.generate(--dossiers) with documents.
  BASELINE  a bare FAB app (bench/bare_grids.py) on the SAME database: FAB's default
            SecurityManager, its own plain declarative models mapping the same tables, and per
            grid a plain ModelView listing the same columns with the same joins (related columns
            as dotted names, e.g. company.name), the same page size, a text-only search form
            (search_columns limited to the grid's text columns) and the same permissions as the
            Back Office officer has on that grid; the same four pages (same filter, sort and
            page), and its plain show page of the same dossier (for reference only: the bare show
            page has no history, documents or moves). Two bare apps run by default
            (--bare-loading best) and each page is compared with the faster of the two: 'joined'
            reads the related columns through FAB's own outer joins, as its REST API reads them
            (the count on the table alone, as the ModelView counts); 'lazy' is a plain
            ModelView's default, each row's related rows loaded on their own. (Which is faster
            depends on the page: joins win on short pages, lazy loads on deep OFFSETs.)
            Computed cells the bare app cannot have (the dossier grid's SLA clock, a company's
            kecamatan name: the bare grid shows the code) are left out of the bare grid; the
            officer of a history row is its first and last name (actor.first_name, actor.last_name).

Each app runs in its own subprocess (two FAB apps do not share a process cleanly); the parent
sends them requests one at a time, interleaved ours/baseline in a rotating order, so both see the
same machine noise. Requests go through Flask's test client (no HTTP server): the numbers are the
app's own work, routing to rendered HTML. Reported per grid and page: median wall-clock ms over
--repeat requests after --warmup requests, SQL statements per request (SQLAlchemy
before_cursor_execute on the engine), rows shown, and whether both showed the same rows.

The database: a fresh SQLite file in a temp dir (or --keep DIR, reused on later runs); or
PostgreSQL with --database-url, built there only if it holds no dossiers. --rebuild builds it
again (on PostgreSQL it DROPS the public schema first). A reused database keeps the schema it was
built with: rebuild after a new migration. The bare app adds its own role, user and permissions.

Targets (issue 13): every grid page at p50 <= 100 ms, <= 1.0x the bare page and <= 8 SQL
statements; the dossier page <= 100 ms and <= 12 statements. "misses" lists what did not meet them.

The LAST line printed is one JSON object:
  {"dossiers", "database", "repeat", "bare_loading", "demo_seconds",
   "grids": {GRID: {PAGE: {"ours_ms", "bare_ms", "ratio", "ours_sql", "bare_sql", "bare_loading"
                           (the bare app compared with), "bare_joined_ms", "bare_lazy_ms" (with
                           best), "ours_rows", "bare_rows", "same_rows", "args"}}},
      PAGE: default, filtered, sorted, page2000
   "dossier_page": {"id", "ours_ms", "ours_sql", "bare_ms", "bare_sql"},
   "worst_ratio", "max_ours_ms", "max_ours_sql", "misses"}

Usage: python bench/dossier_grid.py [--dossiers 100000] [--repeat 30] [--warmup 3] [--seed 76]
                                    [--grids dossier,company,...] [--keep DIR]
       python bench/dossier_grid.py --database-url postgresql://postgres@127.0.0.1/scratch --dossiers 1000000 [--rebuild]
"""
from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo_app import StatementCounter, demo_app, demo_parser, driver_url, sign_in

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("default", "filtered", "sorted", "page2000")
TARGET_MS, TARGET_RATIO, TARGET_SQL, TARGET_PAGE_MS, TARGET_PAGE_SQL = 100.0, 1.0, 8, 100.0, 12
PAGE_WANTED = 2000
# --bare-loading: the bare app(s) measured; with "best" each page's baseline is the faster of both.
BARE_MODES = {"joined": ("joined",), "lazy": ("lazy",), "best": ("joined", "lazy")}
# FAB permissions mirrored from the officer onto the bare user, per grid.
CRUD = ("can_list", "can_show", "can_add", "can_edit", "can_delete")

# grid -> (our view class, bare view class, filter (column, operators in order of preference,
# SQL giving the value), sort (column, direction)). Filter values are read from the data: a
# prefix someone would type, matching a small share of the rows.
GRIDS: dict[str, dict] = {
    "dossier": dict(
        ours="DossierView", bare="BareDossierView",
        filter=("receipt_number", ("sw", "ct", "eq"),
                "SELECT substr(receipt_number, 1, 9) FROM dossier ORDER BY submitted_at DESC, id DESC LIMIT 1"),
        sort=("receipt_number", "asc"),
    ),
    "company": dict(
        ours="CompanyView", bare="BareCompanyView",
        filter=("name", ("ct", "sw", "eq"), "SELECT substr(name, 4, 6) FROM company ORDER BY id LIMIT 1"),
        sort=("nib", "asc"),
    ),
    "applicant": dict(
        ours="ApplicantView", bare="BareApplicantView",
        filter=("full_name", ("sw", "ct", "eq"), "SELECT substr(full_name, 1, 5) FROM applicant ORDER BY id LIMIT 1"),
        sort=("nik", "asc"),
    ),
    "document": dict(
        ours="DocumentView", bare="BareDocumentView",
        filter=("original_filename", ("sw", "ct", "eq"),
                "SELECT original_filename FROM document ORDER BY id DESC LIMIT 1"),
        sort=("verified_at", "desc"),
    ),
    "history": dict(
        ours="StageEventView", bare="BareStageEventView",
        filter=("action", ("eq", "sw", "ct"), "SELECT 'return'"),
        sort=("occurred_at", "asc"),
    ),
    "register": dict(
        ours="RegisterEntryView", bare="BareRegisterEntryView",
        filter=("permit_number", ("sw", "ct", "eq"),
                "SELECT substr(permit_number, 1, 6) FROM register_entry ORDER BY id DESC LIMIT 1"),
        sort=("permit_number", "asc"),
    ),
}


# --------------------------------------------------------------------------- workers

def _serve(client, counter: StatementCounter, pages: dict[str, tuple[str, re.Pattern, str]]) -> None:  # noqa: ANN001
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
        ids = list(dict.fromkeys(row_pattern.findall(body)))
        ok = response.status_code == 200 and (must_contain in body if must_contain else bool(ids))
        print(json.dumps({"ms": ms, "sql": counter.count, "status": response.status_code, "ids": ids, "ok": ok,
                          "url": url}), flush=True)


def _filter_index(view, column: str, operators: tuple[str, ...]) -> tuple[int, str] | None:  # noqa: ANN001
    """(index of the first of `operators` among the column's search filters, its arg_name)."""
    filters = view._filters._all_filters.get(column, [])  # noqa: SLF001
    names = [getattr(f, "arg_name", "") for f in filters]
    for operator in operators:
        if operator in names:
            return names.index(operator), operator
    return None


def _grid_urls(  # noqa: PLR0913
    view, grid: dict, filter_value: str, operator: str, sort: tuple[str, str], page: int,  # noqa: ANN001
) -> tuple[dict[str, str], str | None]:
    """The four page URLs of one grid in FAB's URL language, for this view's name, and the filter
    operator used (the asked one if the view has it, else the first of the grid's it has)."""
    from urllib.parse import quote

    name, base = type(view).__name__, f"{view.route_base}/list/"
    column = grid["filter"][0]
    found = _filter_index(view, column, (operator, *grid["filter"][1]))
    filtered = f"_flt_{found[0]}_{column}={quote(filter_value)}" if found else ""
    return {
        "default": base,
        "filtered": f"{base}?{filtered}",
        "sorted": f"{base}?_oc_{name}={sort[0]}&_od_{name}={sort[1]}",
        "page2000": f"{base}?page_{name}={page - 1}",
    }, (found[1] if found else None)


def worker_ours(args: argparse.Namespace) -> None:
    app, demo_seconds, summary = demo_app(args.database_url, Path(args.dir), args.dossiers, args.seed, args.rebuild)
    from sqlalchemy import func, select, text

    from app.extensions import db
    from app.models import Dossier, Permit
    from app.security.roles import BACK_OFFICE, ROLE_GRANTS

    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username="bo_bench") or sm.add_user(
            "bo_bench", BACK_OFFICE, "Bench", "bo.bench@uji.example", sm.find_role(BACK_OFFICE), password="x"
        )
        views = {type(v).__name__: v for v in app.appbuilder.baseviews}
        plan: dict[str, dict] = {}
        for key in args.grids:
            grid = GRIDS[key]
            view = views[grid["ours"]]
            column, operators, value_sql = grid["filter"]
            value = str(db.session.execute(text(value_sql)).scalar() or "")
            found = _filter_index(view, column, operators)
            sort = grid["sort"]
            if sort[0] not in view.order_columns:  # the grid changed: another sortable column
                default = (view.base_order or ("", ""))[0]
                sort = (next(c for c in view.order_columns if c != default), "asc")
            table = view.datamodel.obj.__table__
            total = db.session.scalar(select(func.count()).select_from(table))
            page = max(1, min(PAGE_WANTED, math.ceil(total / view.page_size)))
            grants = ROLE_GRANTS[BACK_OFFICE].get(view.class_permission_name, ())
            plan[key] = {
                "operator": found[1] if found else operators[0], "value": value, "sort": list(sort), "page": page,
                "page_size": view.page_size, "rows": total, "perms": [p for p in CRUD if p in grants],
            }
        shown = db.session.execute(
            select(Dossier.id, Dossier.receipt_number).join(Permit, Permit.dossier_id == Dossier.id)
            .order_by(Dossier.id.desc()).limit(1)
        ).first() or db.session.execute(select(Dossier.id, Dossier.receipt_number).order_by(Dossier.id.desc())).first()
        plan["_dossier_page"] = {"id": shown[0], "receipt": shown[1]}
        user_id = user.id
        counter = StatementCounter(db.engine)
    client = app.test_client()
    sign_in(client, user_id)
    pages = _pages(views, plan, "ours")
    print(json.dumps({"ready": True, "demo_seconds": demo_seconds, "summary": summary, "plan": plan}), flush=True)
    _serve(client, counter, pages)


def _pages(views: dict, plan: dict, side: str) -> dict[str, tuple[str, re.Pattern, str]]:
    pages = {}
    for key, grid in GRIDS.items():
        if key not in plan:
            continue
        view = views[grid[side]]
        urls, _ = _grid_urls(view, grid, plan[key]["value"], plan[key]["operator"], tuple(plan[key]["sort"]),
                             plan[key]["page"])
        rows = re.compile(re.escape(view.route_base) + r"/show/(\d+)")
        for kind, url in urls.items():
            pages[f"{key}:{kind}"] = (url, rows, "")
    route = views[GRIDS["dossier"][side]].route_base
    shown = plan["_dossier_page"]
    pages["dossier_page"] = (f"{route}/show/{shown['id']}", re.compile(r"(?!)"), shown["receipt"])
    return pages


def worker_bare(args: argparse.Namespace) -> None:
    from bare_grids import create_bare_app  # bench/, the script's own folder

    plan = json.loads(Path(args.plan).read_text())
    grants = {GRIDS[key]["bare"]: (grid["perms"], grid["page_size"]) for key, grid in plan.items()
              if not key.startswith("_")}
    app, db, user_id = create_bare_app(driver_url(args.database_url), grants, args.bare_loading)
    with app.app_context():
        counter = StatementCounter(db.engine)
        views = {type(v).__name__: v for v in app.appbuilder.baseviews}
    client = app.test_client()
    sign_in(client, user_id)
    pages = _pages(views, plan, "bare")
    print(json.dumps({"ready": True}), flush=True)
    _serve(client, counter, pages)


# --------------------------------------------------------------------------- parent

class _Worker:
    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )

    def wait_ready(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"worker {self.proc.args[2:4]} died while preparing (exit {self.proc.wait()})")
        return json.loads(line)

    def get(self, page: str) -> dict:
        self.proc.stdin.write(f"GET {page}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"worker {self.proc.args[2:4]} died (exit {self.proc.wait()})")
        result = json.loads(line)
        if not result["ok"]:
            raise SystemExit(f"{page}: unexpected page (status {result['status']}, {len(result['ids'])} rows) "
                             f"at {result['url']}")
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("QUIT\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


def _parser() -> argparse.ArgumentParser:
    parser = demo_parser(__doc__)
    parser.add_argument("--grids", default=",".join(GRIDS),
                        help=f"comma-separated grids to measure; default all: {','.join(GRIDS)}")
    parser.add_argument("--bare-loading", choices=sorted(BARE_MODES), default="best",
                        help="how the bare grids read related columns: 'joined', FAB's own outer joins for dotted "
                        "columns (as its REST API does, the same joins as ours; the count on the table alone), "
                        "'lazy', a plain ModelView's default (each row's related rows loaded on their own), or "
                        "'best': both, each page compared with the faster of the two; default best")
    parser.add_argument("--worker", choices=("ours", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    return parser


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    args.grids = [g.strip() for g in args.grids.split(",") if g.strip()]
    unknown = [g for g in args.grids if g not in GRIDS]
    if unknown or "dossier" not in args.grids:
        parser.error(f"--grids: unknown {unknown}" if unknown else "--grids must include dossier")
    if args.worker == "ours":
        return worker_ours(args)
    if args.worker == "bare":
        return worker_bare(args)

    with tempfile.TemporaryDirectory(prefix="loket-bench-") as scratch:
        tmp = Path(args.keep or scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        url = args.database_url or f"sqlite:///{tmp / 'loket.db'}"
        common = ["--dossiers", str(args.dossiers), "--seed", str(args.seed), "--grids", ",".join(args.grids),
                  "--dir", str(tmp)]
        common += ["--rebuild"] if args.rebuild else []
        if args.database_url:
            common += ["--database-url", args.database_url]
        ours = _Worker(["--worker", "ours", *common])
        bares: dict[str, _Worker] = {}
        try:
            info = ours.wait_ready()
            plan = info["plan"]
            (tmp / "plan.json").write_text(json.dumps(plan))
            # The bare apps start once the data is there (they map the same tables), one after the
            # other (each adds its views' permissions to the database).
            for mode in BARE_MODES[args.bare_loading]:
                bares[mode] = _Worker(["--worker", "bare", "--bare-loading", mode, "--dir", str(tmp),
                                       "--database-url", url, "--plan", str(tmp / "plan.json"),
                                       "--grids", ",".join(args.grids)])
                bares[mode].wait_ready()
            print(info["summary"])
            if info["demo_seconds"] is not None:
                print(f"demo data: {info['demo_seconds']:.1f} s for {args.dossiers} dossiers")
            names = [f"{g}:{k}" for g in args.grids for k in PAGES] + ["dossier_page"]
            sides = [("ours", ours), *bares.items()]
            plan_rows = [(name, side, worker) for name in names for side, worker in sides]
            results: dict[tuple[str, str], list[dict]] = {(n, s): [] for n, s, _ in plan_rows}
            for i in range(args.warmup + args.repeat):
                # Rotate the order so no page always runs right after the same other one.
                shift = (i * 7) % len(plan_rows)
                for name, side, worker in plan_rows[shift:] + plan_rows[:shift]:
                    result = worker.get(name)
                    if i >= args.warmup:
                        results[(name, side)].append(result)
        finally:
            ours.close()
            for worker in bares.values():
                worker.close()

    report = _report(args, info, plan, results, list(bares))
    print(json.dumps(report))


def _median(samples: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in samples)


def _fastest_bare(results: dict, name: str, modes: list[str]) -> tuple[str, list[dict], dict[str, float]]:
    """(the bare loading whose median was lowest on this page, its samples, every mode's median)."""
    medians = {mode: _median(results[(name, mode)], "ms") for mode in modes}
    mode = min(medians, key=medians.get)
    return mode, results[(name, mode)], medians


def _report(args: argparse.Namespace, info: dict, plan: dict, results: dict, modes: list[str]) -> dict:
    grids: dict[str, dict] = {}
    misses: list[str] = []
    for key in args.grids:
        grids[key] = {}
        for kind in PAGES:
            ours = results[(f"{key}:{kind}", "ours")]
            mode, bare, medians = _fastest_bare(results, f"{key}:{kind}", modes)
            ours_ms, bare_ms = _median(ours, "ms"), medians[mode]
            row = {
                "ours_ms": round(ours_ms, 2), "bare_ms": round(bare_ms, 2), "ratio": round(ours_ms / bare_ms, 3),
                "ours_sql": int(_median(ours, "sql")), "bare_sql": int(_median(bare, "sql")), "bare_loading": mode,
                **({f"bare_{m}_ms": round(v, 2) for m, v in medians.items()} if len(modes) > 1 else {}),
                "ours_rows": len(ours[0]["ids"]), "bare_rows": len(bare[0]["ids"]),
                "same_rows": ours[0]["ids"] == bare[0]["ids"], "args": ours[0]["url"].partition("?")[2],
            }
            grids[key][kind] = row
            if row["ours_ms"] > TARGET_MS or row["ratio"] > TARGET_RATIO or row["ours_sql"] > TARGET_SQL:
                misses.append(f"{key}:{kind}")
            print(f"{key:9s} {kind:9s} ours {ours_ms:8.2f} ms {row['ours_sql']:3d} SQL | bare {bare_ms:8.2f} ms "
                  f"{row['bare_sql']:3d} SQL ({mode:6s}) | ratio {row['ratio']:6.3f} | rows "
                  f"{row['ours_rows']}/{row['bare_rows']}{'' if row['same_rows'] else ' (other rows)'}  ?{row['args']}")
    ours = results[("dossier_page", "ours")]
    mode, bare, medians = _fastest_bare(results, "dossier_page", modes)
    page = {
        "id": plan["_dossier_page"]["id"], "ours_ms": round(_median(ours, "ms"), 2), "ours_sql": int(_median(ours, "sql")),
        "bare_ms": round(medians[mode], 2), "bare_sql": int(_median(bare, "sql")),
    }
    if page["ours_ms"] > TARGET_PAGE_MS or page["ours_sql"] > TARGET_PAGE_SQL:
        misses.append("dossier_page")
    print(f"dossier page /dossierview/show/{page['id']}: ours {page['ours_ms']:.2f} ms {page['ours_sql']} SQL | "
          f"bare show page {page['bare_ms']:.2f} ms {page['bare_sql']} SQL (reference)")
    rows = [r for g in grids.values() for r in g.values()]
    return {
        "dossiers": args.dossiers if info["demo_seconds"] is not None else plan["dossier"]["rows"],
        "database": "postgresql" if args.database_url else "sqlite",
        "repeat": args.repeat,
        "bare_loading": args.bare_loading,
        "demo_seconds": None if info["demo_seconds"] is None else round(info["demo_seconds"], 1),
        "grids": grids,
        "dossier_page": page,
        "worst_ratio": max(r["ratio"] for r in rows),
        "max_ours_ms": max(r["ours_ms"] for r in rows),
        "max_ours_sql": max(r["ours_sql"] for r in rows),
        "misses": misses,
    }


if __name__ == "__main__":
    main()
