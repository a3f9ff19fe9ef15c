"""The web side of the audit trail: who acts in a request (a signed-in officer, a bearer token's
user) and from which address, and Flask-AppBuilder's users and roles as audited records."""
from __future__ import annotations

from flask import Flask, g, has_request_context, request
from flask_appbuilder.security.sqla.models import Role, User
from flask_login import current_user

from app.audit import SYSTEM, Actor, Audited, actor_name, audit, set_actor, set_reason
from app.extensions import db
from app.security.officers import Officer

# FAB writes these on every login; they are bookkeeping, not changes of the account.
_USER_BOOKKEEPING = frozenset({
    "last_login", "login_count", "fail_login_count", "created_on", "changed_on", "created_by_fk", "changed_by_fk",
})


def request_actor() -> Actor:
    """Asked when a change is written: by then a bearer token has been checked too (g.user)."""
    if not has_request_context():
        return SYSTEM
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        user = current_user
    origin = "api" if request.path.startswith("/api/") else "web"
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(None, "anonim", request.remote_addr, origin)
    return Actor(user.id, actor_name(user.username, user.get_full_name()), request.remote_addr, origin)


def _start_request() -> None:
    set_actor(db.session, request_actor)
    set_reason(db.session, None)


def init_audit(app: Flask) -> None:
    # FAB's screens and sign-ins load users as Officer (app.security.officers), its relations as User.
    users = Audited("ab_user", skip=_USER_BOOKKEEPING, secret=frozenset({"password"}),
                    collections={"roles": lambda role: role.name, "groups": lambda group: group.name})
    audit(User, users)
    audit(Officer, users)
    audit(Role, Audited("ab_role", collections={
        "permissions": lambda pv: f"{pv.permission.name} {pv.view_menu.name}",
    }))
    app.before_request(_start_request)
