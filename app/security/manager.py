"""Security manager: FAB's, with permission checks answered from one query per request.

FAB asks the database once per permission check (about 16 per grid page). We load the user's
(permission, resource) pairs once and keep them on `g` for the rest of the request, and load
the signed-in user with roles and groups in one SELECT instead of three.

FAB's own screens (users, roles, groups, permissions) are FAB's view classes with Loket's guard
against malformed requests (app.views.base.CrudGuard), under FAB's class names, so that their
URLs, endpoints and permissions stay FAB's. Its user is app.security.officers.Officer (FAB's
user with the NIP and jabatan a signature prints), on the user screens and the own-info form.
"""
from __future__ import annotations

import datetime as dt

from flask import flash, has_request_context
from flask_appbuilder.security import views as fab_views
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Group,
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
)
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import get_jwt
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.models import SessionGeneration, SigningCertificate
from app.request_cache import request_cache
from app.security.accounts import cookie_session_is_current, end_sessions, record_sign_in, sign_in_wait, start_session
from app.security.applicants import ApplicantRegistration
from app.security.officers import OFFICER_FIELDS, OFFICER_LABELS, Officer, OfficerInfoEdit, nip_field, position_field
from app.views.base import CrudGuard
from app.views.portal_accounts import PortalRegisterUserView


def _with_officer_fields(fieldsets: list) -> list:
    """FAB's fieldsets with the NIP and jabatan after the e-mail (Personal Info)."""
    return [
        (title, {**spec, "fields": [*spec["fields"], *OFFICER_FIELDS]} if "email" in spec["fields"] else spec)
        for title, spec in fieldsets
    ]


class UserDBModelView(CrudGuard, fab_views.UserDBModelView):
    label_columns = {**fab_views.UserDBModelView.label_columns, **OFFICER_LABELS}
    # After FAB's first_name, last_name, username, active, email.
    add_columns = [*fab_views.UserDBModelView.add_columns[:5], *OFFICER_FIELDS,
                   *fab_views.UserDBModelView.add_columns[5:]]
    edit_columns = [*fab_views.UserDBModelView.edit_columns[:5], *OFFICER_FIELDS,
                    *fab_views.UserDBModelView.edit_columns[5:]]
    add_form_extra_fields = {
        **fab_views.UserDBModelView.add_form_extra_fields, "nip": nip_field(), "position": position_field(),
    }
    edit_form_extra_fields = {"nip": nip_field(), "position": position_field()}
    show_fieldsets = _with_officer_fields(fab_views.UserDBModelView.show_fieldsets)
    user_show_fieldsets = _with_officer_fields(fab_views.UserDBModelView.user_show_fieldsets)


class UserInfoEditView(fab_views.UserInfoEditView):
    form = OfficerInfoEdit


class RoleModelView(CrudGuard, fab_views.RoleModelView):
    pass


class UserGroupModelView(CrudGuard, fab_views.UserGroupModelView):
    pass


class PermissionModelView(CrudGuard, fab_views.PermissionModelView):
    pass


class ViewMenuModelView(CrudGuard, fab_views.ViewMenuModelView):
    pass


class PermissionViewModelView(CrudGuard, fab_views.PermissionViewModelView):
    pass


class RegisterUserModelView(CrudGuard, fab_views.RegisterUserModelView):
    pass


def _asker() -> tuple[str, object] | None:
    """Who a permission check is for: the session's user, a verified token's, or nobody yet."""
    if current_user.is_authenticated:
        return ("session", current_user.get_id())
    try:
        return ("token", get_jwt().get("sub"))
    except RuntimeError:  # no token verified (yet) in this request
        return None


class LoketSecurityManager(SecurityManager):
    user_model = Officer
    userdbmodelview = UserDBModelView
    userinfoeditview = UserInfoEditView
    rolemodelview = RoleModelView
    groupmodelview = UserGroupModelView
    permissionmodelview = PermissionModelView
    viewmenumodelview = ViewMenuModelView
    permissionviewmodelview = PermissionViewModelView
    registerusermodelview = RegisterUserModelView
    registeruser_model = ApplicantRegistration
    # FAB's own /register/ pages lead to the portal's (app.views.portal_accounts).
    registeruserdbview = PortalRegisterUserView

    # FAB's "User's Statistics" chart loads Google Charts from www.gstatic.com: a third-party
    # script (app.security.headers allows none) that an intranet without internet cannot reach.
    userstatschartview = None

    def load_user(self, pk: int) -> object | None:
        """Flask-Login's user loader (every request): the user, their roles and groups, their
        session generation and whether they hold a TTE certificate, at once. A cookie session
        older than the generation is over."""
        user_model = self.user_model
        stmt = (
            select(user_model, SessionGeneration.generation, SigningCertificate.id)
            .outerjoin(SessionGeneration, SessionGeneration.user_id == user_model.id)
            .outerjoin(SigningCertificate, SigningCertificate.user_id == user_model.id)
            .where(user_model.id == int(pk))
            .options(joinedload(user_model.roles), joinedload(user_model.groups).selectinload(Group.roles))
        )
        row = self.session.execute(stmt).unique().first()
        if row is None or not row[0].is_active or not cookie_session_is_current(int(pk), row[1] or 0):
            return None
        # Whether the user signs electronically (TTE), for the pages that offer it, at no extra query.
        row[0].signing_certificate_id = row[2]
        return row[0]

    def auth_user_db(self, username: str, password: str) -> object | None:
        """FAB's check, after a wait that doubles with each failure past the free ones for this
        user name (known or not), whatever address the tries come from."""
        now = dt.datetime.now(dt.UTC)
        wait = sign_in_wait(self.session, username, now)
        if wait:
            flash(str(_l("Too many failed sign-ins for this user name: try again in %(seconds)s seconds.",
                         seconds=wait)), "danger")
            return None
        user = super().auth_user_db(username, password)
        record_sign_in(self.session, username, user is not None, now)
        return user

    def on_user_login(self, user: object) -> None:
        start_session(self.session, user.id)

    def on_user_logout(self, user: object) -> None:
        # Signing out ends every session of the account, a cookie copied before included.
        end_sessions(self.session, user.id)

    def reset_password(self, userid: int, password: str) -> None:
        """A new password ends the account's other sessions; the one that set it goes on."""
        super().reset_password(userid, password)
        end_sessions(self.session, userid)
        if current_user.is_authenticated and current_user.id == userid:
            start_session(self.session, userid)

    def _permission_pairs(self, role_ids: tuple[int, ...]) -> frozenset[tuple[str, str]]:
        cache = request_cache("permission_pairs")
        if role_ids not in cache:
            stmt = (
                select(Permission.name, ViewMenu.name)
                .select_from(assoc_permissionview_role)
                .join(PermissionView, PermissionView.id == assoc_permissionview_role.c.permission_view_id)
                .join(Permission, Permission.id == PermissionView.permission_id)
                .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
                .where(assoc_permissionview_role.c.role_id.in_(role_ids))
            )
            cache[role_ids] = frozenset(tuple(row) for row in self.session.execute(stmt))
        return cache[role_ids]

    def _role_ids(self, roles: list[Role]) -> tuple[int, ...]:
        return tuple(sorted(role.id for role in roles if role.name not in self.builtin_roles))

    def has_access(self, permission_name: str, view_name: str) -> bool:
        # A grid page asks about 20 times (menu, row buttons), and FAB would resolve the user and
        # its roles each time. The answer is kept per asker: FAB's API protection asks once
        # before it verifies a bearer token, as nobody, and again after, as the token's user.
        if not has_request_context():
            return super().has_access(permission_name, view_name)
        memo = request_cache("has_access")
        key = (_asker(), permission_name, view_name)
        if key not in memo:
            memo[key] = super().has_access(permission_name, view_name)
        return memo[key]

    def _has_view_access(self, user: object, permission_name: str, view_name: str) -> bool:
        roles = self.get_user_roles(user)
        if any(
            role.name in self.builtin_roles and self._has_access_builtin_roles(role, permission_name, view_name)
            for role in roles
        ):
            return True
        role_ids = self._role_ids(roles)
        return bool(role_ids) and (permission_name, view_name) in self._permission_pairs(role_ids)

    def _get_user_permission_view_menus(
        self, user: object, permission_name: str, view_menus_name: list[str]
    ) -> set[str]:
        roles = [self.get_public_role()] if user is None else self.get_user_roles(user)
        roles = [role for role in roles if role is not None]
        role_ids = self._role_ids(roles)
        pairs = self._permission_pairs(role_ids) if role_ids else frozenset()
        return {name for (perm, name) in pairs if perm == permission_name and (not view_menus_name or name in view_menus_name)}

    def get_public_role(self) -> Role | None:
        memo = request_cache("public_role")
        if "role" not in memo:
            memo["role"] = super().get_public_role()
        return memo["role"]
