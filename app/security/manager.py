"""Security manager: FAB's, with permission checks answered from one query per request.

FAB asks the database once per permission check (about 16 per grid page). We load the user's
(permission, resource) pairs once and keep them on `g` for the rest of the request, and load
the signed-in user with roles and groups in one SELECT instead of three.
"""
from __future__ import annotations

from flask import has_request_context
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Group,
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
)
from flask_jwt_extended import get_jwt
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.request_cache import request_cache


def _asker() -> tuple[str, object] | None:
    """Who a permission check is for: the session's user, a verified token's, or nobody yet."""
    if current_user.is_authenticated:
        return ("session", current_user.get_id())
    try:
        return ("token", get_jwt().get("sub"))
    except RuntimeError:  # no token verified (yet) in this request
        return None


class LoketSecurityManager(SecurityManager):
    def load_user(self, pk: int) -> object | None:
        """Flask-Login's user loader (every request): the user, their roles and groups at once."""
        user_model = self.user_model
        stmt = (
            select(user_model)
            .where(user_model.id == int(pk))
            .options(joinedload(user_model.roles), joinedload(user_model.groups).selectinload(Group.roles))
        )
        user = self.session.scalars(stmt).unique().first()
        return user if user and user.is_active else None

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
