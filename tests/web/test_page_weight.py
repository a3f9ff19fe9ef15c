"""Every grid stays light however many companies, applicants and dossiers the office holds: no
search form or add/edit form lists a whole big table (issue 13: 57 MB pages at a million dossiers).

5,000 of each are enough to tell a pick-list of every row (well over 200 KB) from a text filter
or a type-ahead (a few dozen KB)."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Applicant, Company, Document, Dossier, RegisterEntry
from app.security.roles import ALL_ROLES
from app.views.base import LoketModelView
from tests.factories import make_dossier

PARTIES = 5_000
MAX_PAGE_BYTES = 200_000
ADMIN = "Admin"


@pytest.fixture(scope="module")
def many_parties(app: Flask):
    """5,000 companies, applicants and dossiers, and one row in each grid for its edit form."""
    from tests.conftest import wipe_business_tables

    with app.app_context():
        db.session.execute(insert(Company), [
            {"name": f"PT Banyak Usaha {n}", "legal_form": "PT", "nib": f"{8120000000000 + n:013d}",
             "kecamatan_code": "61.08.01", "desa_code": "61.08.01.2001"}
            for n in range(PARTIES)
        ])
        company_ids = db.session.scalars(select(Company.id).order_by(Company.id)).all()
        db.session.execute(insert(Applicant), [
            {"full_name": f"Warga Banyak {n}", "nik": f"6108011508{n:06d}", "company_id": company_ids[n]}
            for n in range(PARTIES)
        ])
        applicant_ids = db.session.scalars(select(Applicant.id).order_by(Applicant.id)).all()
        dossier = make_dossier()
        db.session.execute(insert(Dossier), [
            {"receipt_number": f"BANYAK/{n:05d}", "permit_type_id": dossier.permit_type_id, "stage_id": dossier.stage_id,
             "company_id": company_ids[n], "applicant_id": applicant_ids[n], "status": dossier.status,
             "submitted_at": dossier.submitted_at, "due_at": dossier.due_at, "version": 1}
            for n in range(PARTIES)
        ])
        db.session.commit()
        requirement = dossier.permit_type.requirements[0]
        db.session.add(Document(
            dossier=dossier, requirement_type=requirement, original_filename="surat.pdf",
            storage_key="cd" * 32, size_bytes=10, sha256="cd" * 32,
        ))
        db.session.add(RegisterEntry(
            register_number="REG/9101/2026", year=2026, seq=9101, entry_date=dossier.submitted_at.date(),
            dossier=dossier, permit_number="503/9101/IPK/DPMPTSPTK/2026", company=dossier.company,
            applicant=dossier.applicant, permit_type=dossier.permit_type, issue_date=dossier.submitted_at.date(),
        ))
        db.session.commit()
    yield
    with app.app_context():
        wipe_business_tables()


def _permitted(app: Flask, role: str, permission: str, resource: str) -> bool:
    found = app.appbuilder.sm.find_role(role)
    return any(p.permission.name == permission and p.view_menu.name == resource for p in found.permissions)


def _pages(app: Flask) -> list[tuple[str, str, str]]:
    """(view, role, path) for each grid's list (search form included), add and edit form, as
    Admin and as the first staff role with that permission."""
    pages = []
    with app.app_context():
        for view in app.appbuilder.baseviews:
            if not isinstance(view, LoketModelView):
                continue
            base = view.route_base
            model = view.datamodel.obj
            first = db.session.scalar(select(model.id).order_by(model.id).limit(1))
            paths = {"can_list": f"{base}/list/", "can_add": f"{base}/add"}
            if first is not None:
                paths["can_edit"] = f"{base}/edit/{first}"
            for permission, path in paths.items():
                staff = next((r for r in ALL_ROLES if r != ADMIN
                              and _permitted(app, r, permission, view.class_permission_name)), None)
                for role in {ADMIN, staff} - {None}:
                    if _permitted(app, role, permission, view.class_permission_name):
                        pages.append((type(view).__name__, role, path))
    return pages


def test_every_grid_and_form_stays_under_200_kb_with_5000_parties(app, login_as, many_parties):
    pages = _pages(app)
    assert {"ApplicantView", "RegisterEntryView", "DocumentView", "StageEventView", "DossierView"} <= {
        view for view, _, _ in pages}
    assert any(path.startswith("/applicantview/add") for _, _, path in pages)
    too_heavy = []
    for view, role, path in pages:
        response = login_as(role).get(path)
        assert response.status_code == 200, f"{role} {path} -> {response.status_code}"
        if len(response.data) >= MAX_PAGE_BYTES:
            too_heavy.append(f"{role} {path}: {len(response.data):,} bytes")
    assert not too_heavy, "\n".join(too_heavy)


@pytest.mark.parametrize("path", ["/applicantview/list/", "/registerentryview/list/"])
def test_a_company_is_searched_by_name_or_nib_not_picked_from_a_list(app, login_as, many_parties, path):
    client = login_as(ADMIN)
    page = client.get(path).get_data(as_text=True)
    assert "PT Banyak Usaha 4321" not in page
    by_name = client.get(f"{path}?_flt_0_company=usaha 4321").get_data(as_text=True)
    by_nib = client.get(f"{path}?_flt_1_company={8120000000000 + 4321:013d}").get_data(as_text=True)
    if path.startswith("/applicantview"):
        assert "Warga Banyak 4321" in by_name and "Warga Banyak 4321" in by_nib
        assert "Warga Banyak 4320" not in by_name and "Warga Banyak 4320" not in by_nib


def test_history_and_documents_are_searched_by_receipt_number_and_officer_name(app, login_as, many_parties):
    from app.models import PermitType

    with app.app_context():
        officer = app.appbuilder.sm.find_user(username="front_office")
        code = db.session.scalar(select(PermitType)).requirements[0].code
        dossier = make_dossier(actor_id=officer.id, verified=(code,))
        receipt = dossier.receipt_number
    client = login_as(ADMIN)
    for grid in ("stageeventview", "documentview"):
        assert receipt in client.get(f"/{grid}/list/?_flt_1_dossier={receipt}").get_data(as_text=True)
        assert receipt in client.get(f"/{grid}/list/?_flt_0_dossier={receipt[-6:]}").get_data(as_text=True)
        assert receipt not in client.get(f"/{grid}/list/?_flt_1_dossier={receipt[:-1]}").get_data(as_text=True)
    # The officer: every typed word in the first name, last name or user name.
    assert receipt in client.get("/stageeventview/list/?_flt_0_actor=front uji").get_data(as_text=True)
    assert receipt not in client.get("/stageeventview/list/?_flt_0_actor=back uji").get_data(as_text=True)
    assert receipt in client.get("/stageeventview/list/?_flt_1_actor=front_office").get_data(as_text=True)
