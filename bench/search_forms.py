"""Benchmark: the search and add/edit forms of the grids that name a big table, with and without
pick-lists (issue 13: 57 MB of pick-list per Register page at a million dossiers).

What it measures
  OURS      each form as Loket builds it (app.views.grid text filters, app.views.typeahead):
            the search forms of RegisterEntryView, ApplicantView, DocumentView, StageEventView
            and DossierView, and the applicant add form; refreshed and rendered as FAB renders
            them on every list/add page.
  BASELINE  the same columns as Flask-AppBuilder builds them by default (GeneralModelConverter on
            a plain SQLAInterface: a Select2 of every related company, applicant, dossier or
            officer), rendered the same way, in the same process, interleaved with OURS.
Reported per form: median wall-clock ms over --repeat renders and the rendered bytes. Data: a fresh
SQLite file (Alembic upgrade, role sync, SOP load), then --rows companies, applicants and dossiers
inserted in bulk.

The LAST line printed is one JSON object:
  {"rows", "repeat", "forms": {FORM: {"ours_ms", "bare_ms", "ours_bytes", "bare_bytes", "ratio_ms",
   "ratio_bytes"}}, "worst_ours_bytes", "min_ratio_ms"}   ratio = baseline / ours (higher is better)

Usage: python bench/search_forms.py [--rows 20000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _render(form_class) -> str:  # noqa: ANN001
    form = form_class()
    return "".join(str(field()) for field in form if field.name != "csrf_token")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000, help="companies, applicants and dossiers each")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="loket-search-forms-"))
    os.environ["LOKET_INSTANCE_PATH"] = str(instance)
    from flask_appbuilder.forms import GeneralModelConverter
    from flask_appbuilder.models.sqla.interface import SQLAInterface
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app import create_app
    from app.bootstrap import load_sop_files
    from app.extensions import db
    from app.models import Applicant, Company, Dossier, PermitType
    from app.security.sync import sync_roles
    from config import TestConfig

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'bench.db'}"

    app = create_app(BenchConfig)
    with app.app_context():
        upgrade()
        sync_roles(app.appbuilder)
        load_sop_files()
        n = args.rows
        db.session.execute(insert(Company), [
            {"name": f"PT Bangku {i}", "legal_form": "PT", "nib": f"{8000000000000 + i:013d}"} for i in range(n)])
        company_ids = db.session.scalars(select(Company.id).order_by(Company.id)).all()
        db.session.execute(insert(Applicant), [
            {"full_name": f"Warga {i}", "nik": f"61080115{i:08d}", "company_id": company_ids[i]} for i in range(n)])
        applicant_ids = db.session.scalars(select(Applicant.id).order_by(Applicant.id)).all()
        permit = db.session.scalar(select(PermitType))
        stage = permit.stages[0]
        import datetime as dt

        now = dt.datetime.now(dt.UTC)
        db.session.execute(insert(Dossier), [
            {"receipt_number": f"B/{i:08d}", "permit_type_id": permit.id, "stage_id": stage.id, "status": "in_progress",
             "company_id": company_ids[i], "applicant_id": applicant_ids[i], "submitted_at": now, "version": 1}
            for i in range(n)])
        db.session.commit()

        views = {type(v).__name__: v for v in app.appbuilder.baseviews}
        cases = {}
        for name in ("RegisterEntryView", "ApplicantView", "DocumentView", "StageEventView", "DossierView"):
            view = views[name]
            bare = GeneralModelConverter(SQLAInterface(view.datamodel.obj, db.session)).create_form(
                dict(view.label_columns), view.search_columns)
            cases[f"{name}.search"] = (view.search_form, bare)
        applicants = views["ApplicantView"]
        bare_add = GeneralModelConverter(SQLAInterface(Applicant, db.session)).create_form(
            dict(applicants.label_columns), applicants.add_columns)
        cases["ApplicantView.add"] = (applicants.add_form, bare_add)

        results = {}
        with app.test_request_context():
            for name, (ours, bare) in cases.items():
                times: dict[str, list[float]] = {"ours": [], "bare": []}
                sizes = {}
                for i in range(args.repeat):
                    for side, form in (("ours", ours), ("bare", bare)) if i % 2 == 0 else (("bare", bare), ("ours", ours)):
                        start = time.perf_counter()
                        html = _render(form)
                        times[side].append((time.perf_counter() - start) * 1000)
                        sizes[side] = len(html.encode())
                ours_ms, bare_ms = statistics.median(times["ours"]), statistics.median(times["bare"])
                results[name] = {
                    "ours_ms": round(ours_ms, 2), "bare_ms": round(bare_ms, 2),
                    "ours_bytes": sizes["ours"], "bare_bytes": sizes["bare"],
                    "ratio_ms": round(bare_ms / max(ours_ms, 0.001), 1),
                    "ratio_bytes": round(sizes["bare"] / max(sizes["ours"], 1), 1),
                }
                print(f"{name:28s} ours {ours_ms:9.2f} ms {sizes['ours']:>10,} B   "
                      f"FAB pick-list {bare_ms:9.2f} ms {sizes['bare']:>12,} B")
    print(json.dumps({
        "rows": args.rows, "repeat": args.repeat, "forms": results,
        "worst_ours_bytes": max(r["ours_bytes"] for r in results.values()),
        "min_ratio_ms": min(r["ratio_ms"] for r in results.values()),
    }))


if __name__ == "__main__":
    main()
