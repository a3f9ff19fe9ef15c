"""Bringing a database up to date: schema, roles, SOPs, first admin. Each step is idempotent."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from flask import Flask, current_app
from flask_migrate import upgrade

from app.extensions import db
from app.office import office_calendar
from app.security.roles import ADMIN, STAGE_ROLES
from app.security.sync import sync_roles
from app.sop.loader import LoadResult, load_sops, parse_sop_dir


@dataclass(frozen=True)
class BootstrapReport:
    sops: list[LoadResult]
    admin_created: bool
    admin_password: str | None  # only when generated here; shown once


def load_sop_files(directory: str | None = None) -> list[LoadResult]:
    definitions = parse_sop_dir(
        # "2 hari kerja" becomes minutes of the office day (07:30-16:00: 510).
        directory or current_app.config["SOP_DIR"], STAGE_ROLES, office_calendar().day_minutes
    )
    return load_sops(db.session, definitions)


def ensure_admin(username: str = "admin") -> tuple[bool, str | None]:
    sm = current_app.appbuilder.sm
    if sm.find_user(username=username) is not None:
        return False, None
    given = os.environ.get("LOKET_ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(12)
    user = sm.add_user(
        username=username,
        first_name="Admin",
        last_name="Loket",
        email=os.environ.get("LOKET_ADMIN_EMAIL", "admin@loket.invalid"),
        role=sm.find_role(ADMIN),
        password=password,
    )
    if not user:
        raise RuntimeError("could not create the admin user")
    return True, None if given else password


def bootstrap(app: Flask, migrate_schema: bool = True) -> BootstrapReport:
    with app.app_context():
        if migrate_schema:
            upgrade()
        sync_roles(app.appbuilder)
        sops = load_sop_files()
        created, password = ensure_admin()
        return BootstrapReport(sops=sops, admin_created=created, admin_password=password)
