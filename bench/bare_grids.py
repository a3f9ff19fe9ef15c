"""The bare Flask-AppBuilder app bench/dossier_grid.py measures Loket's grids against: plain
declarative models mapping Loket's tables (only the columns the grids show or search), and per
big grid a plain ModelView of the same shape: the same list columns with the same joins (related
columns as dotted names), a text-only search form, the grid's page size. Nothing of Loket's is
imported: this is what FAB gives for that shape.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import Flask
from flask_appbuilder import AppBuilder, Model, ModelView
from flask_appbuilder.models.sqla.base import SQLA
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

ROLE, USER = "Bare bench", "bare_bench"


@dataclass(frozen=True)
class GridShape:
    name: str  # the ModelView's class name, also its permission resource and menu entry
    model: type
    columns: list[str]
    search: list[str]  # text columns only: no select listing every related row
    order: tuple[str, str]


class JoinedInterface(SQLAInterface):
    """A page's rows with their related columns read through FAB's own outer joins for dotted
    columns (its REST API's select_columns: contains_eager, load_only); FAB's ModelView list does
    not pass them and loads each row's related rows on its own instead (loading="lazy"). The
    count stays the ModelView's: the model's table alone (FAB would join every related table
    into the count too, which costs a bare grid more than the rows do)."""

    select_columns: list[str] = []

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,  # noqa: ANN001, ANN201, PLR0913
              select_columns=None, outer_default_load=False):
        return super().query(filters, order_column, order_direction, page, page_size,
                             select_columns or self.select_columns, outer_default_load)

    def query_count(self, query, filters=None, select_columns=None) -> int:  # noqa: ANN001, ARG002
        return super().query_count(query, filters, None)


# --------------------------------------------------------------------------- the tables, as mapped here

class PermitType(Model):
    __tablename__ = "permit_type"
    id = Column(Integer, primary_key=True)
    name = Column(String(200))


class Stage(Model):
    __tablename__ = "stage"
    id = Column(Integer, primary_key=True)
    name = Column(String(200))


class RequirementType(Model):
    __tablename__ = "requirement_type"
    id = Column(Integer, primary_key=True)
    name = Column(String(300))


class Company(Model):
    __tablename__ = "company"
    id = Column(Integer, primary_key=True)
    name = Column(String(200))
    legal_form = Column(String(20))
    nib = Column(String(13))
    npwp = Column(String(16))
    kecamatan_code = Column(String(8))
    phone = Column(String(30))
    email = Column(String(120))


class Applicant(Model):
    __tablename__ = "applicant"
    id = Column(Integer, primary_key=True)
    full_name = Column(String(150))
    nik = Column(String(16))
    email = Column(String(120))
    phone = Column(String(30))
    position = Column(String(100))
    company_id = Column(Integer, ForeignKey("company.id"))
    company = relationship(Company)


class Dossier(Model):
    __tablename__ = "dossier"
    id = Column(Integer, primary_key=True)
    receipt_number = Column(String(20))
    permit_type_id = Column(Integer, ForeignKey("permit_type.id"))
    company_id = Column(Integer, ForeignKey("company.id"))
    applicant_id = Column(Integer, ForeignKey("applicant.id"))
    stage_id = Column(Integer, ForeignKey("stage.id"))
    status = Column(String(20))
    submitted_at = Column(DateTime(timezone=True))
    due_at = Column(DateTime(timezone=True))
    permit_type = relationship(PermitType)
    company = relationship(Company)
    applicant = relationship(Applicant)
    stage = relationship(Stage)


class Document(Model):
    __tablename__ = "document"
    id = Column(Integer, primary_key=True)
    dossier_id = Column(Integer, ForeignKey("dossier.id"))
    requirement_type_id = Column(Integer, ForeignKey("requirement_type.id"))
    original_filename = Column(String(255))
    uploaded_at = Column(DateTime(timezone=True))
    verified_at = Column(DateTime(timezone=True))
    dossier = relationship(Dossier)
    requirement_type = relationship(RequirementType)


class StageEvent(Model):
    __tablename__ = "stage_event"
    id = Column(Integer, primary_key=True)
    dossier_id = Column(Integer, ForeignKey("dossier.id"))
    from_stage_id = Column(Integer, ForeignKey("stage.id"))
    to_stage_id = Column(Integer, ForeignKey("stage.id"))
    action = Column(String(30))
    actor_id = Column(Integer, ForeignKey("ab_user.id"))
    occurred_at = Column(DateTime(timezone=True))
    dossier = relationship(Dossier)
    from_stage = relationship(Stage, foreign_keys=[from_stage_id])
    to_stage = relationship(Stage, foreign_keys=[to_stage_id])
    actor = relationship(User)


class RegisterEntry(Model):
    __tablename__ = "register_entry"
    id = Column(Integer, primary_key=True)
    register_number = Column(String(60))
    year = Column(Integer)
    entry_date = Column(Date)
    permit_number = Column(String(80))
    issue_date = Column(Date)
    company_id = Column(Integer, ForeignKey("company.id"))
    applicant_id = Column(Integer, ForeignKey("applicant.id"))
    permit_type_id = Column(Integer, ForeignKey("permit_type.id"))
    archive_box = Column(String(40))
    archive_shelf = Column(String(40))
    company = relationship(Company)
    applicant = relationship(Applicant)
    permit_type = relationship(PermitType)


# --------------------------------------------------------------------------- the grids

SHAPES = {grid.name: grid for grid in (
    GridShape("BareDossierView", Dossier, ["receipt_number", "submitted_at", "permit_type.name", "company.name",
              "applicant.full_name", "stage.name", "status", "due_at"], ["receipt_number", "status"],
              ("submitted_at", "desc")),
    GridShape("BareCompanyView", Company, ["name", "legal_form", "nib", "npwp", "kecamatan_code", "phone"],
              ["name", "legal_form", "nib", "npwp", "kecamatan_code", "email"], ("name", "asc")),
    GridShape("BareApplicantView", Applicant, ["full_name", "nik", "company.name", "position", "phone"],
              ["full_name", "nik", "email", "phone"], ("full_name", "asc")),
    GridShape("BareDocumentView", Document, ["dossier.receipt_number", "requirement_type.name", "original_filename",
              "uploaded_at", "verified_at"], ["original_filename"], ("uploaded_at", "desc")),
    GridShape("BareStageEventView", StageEvent, ["occurred_at", "dossier.receipt_number", "action", "from_stage.name",
              "to_stage.name", "actor.first_name", "actor.last_name"], ["action"], ("occurred_at", "desc")),
    GridShape("BareRegisterEntryView", RegisterEntry, ["register_number", "entry_date", "permit_number", "company.name",
              "applicant.full_name", "permit_type.name", "archive_box", "archive_shelf"],
              ["register_number", "permit_number"], ("entry_date", "desc")),
)}


def model_view(shape: GridShape, page_size: int, loading: str) -> type[ModelView]:
    """A plain ModelView of the shape; with loading "joined" its list reads the dotted columns
    through outer joins, with "lazy" as FAB's ModelView does by default."""
    datamodel = (JoinedInterface if loading == "joined" else SQLAInterface)(shape.model)
    datamodel.select_columns = shape.columns
    return type(shape.name, (ModelView,), dict(
        datamodel=datamodel, list_columns=shape.columns, search_columns=shape.search, base_order=shape.order,
        page_size=page_size, show_columns=[c for c in shape.columns if "." not in c],
    ))


def create_bare_app(database_url: str, grants: dict[str, tuple[list[str], int]], loading: str) -> tuple[Flask, SQLA, int]:
    """The app with a view per grid named in `grants` (view name -> (its permissions, page size)),
    and a user whose one role has exactly those permissions; returns (app, db, the user's id)."""
    db = SQLA()
    app = Flask("baseline")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url,
        SECRET_KEY=secrets.token_urlsafe(32),
        FAB_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
    )
    db.init_app(app)
    with app.app_context():
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        for name, (_, page_size) in grants.items():
            appbuilder.add_view(model_view(SHAPES[name], page_size, loading), name)
        sm = appbuilder.sm
        role = sm.find_role(ROLE) or sm.add_role(ROLE)
        for name, (perms, _) in grants.items():
            for perm in [*perms, "menu_access"]:
                pvm = sm.find_permission_view_menu(perm, name)
                if pvm is not None and pvm not in role.permissions:
                    sm.add_permission_role(role, pvm)
        user = sm.find_user(username=USER) or sm.add_user(USER, "Bare", "Bench", "bare.bench@uji.example", role,
                                                          password="x")
        db.session.commit()
        return app, db, user.id
