"""Makes the roles in the database match app.security.roles exactly. Safe to run at every start."""
from __future__ import annotations

from flask_appbuilder import AppBuilder

from app.menu import MENU
from app.security.roles import (
    ADMIN,
    ADMIN_GRANTS,
    APPLICANT_GRANTS,
    BUSINESS_RESOURCES,
    PEMOHON,
    PUBLIC,
    ROLE_GRANTS,
    SELF_SERVICE,
)

# Resources that are Loket's own (its grids, screens and menus); every other one is FAB's.
LOKET_RESOURCES = frozenset(BUSINESS_RESOURCES) | {e.name for e in MENU} | {e.category for e in MENU}


def _grants(role_name: str) -> dict[str, tuple[str, ...]]:
    return {ADMIN: ADMIN_GRANTS, PEMOHON: APPLICANT_GRANTS}.get(role_name) or ROLE_GRANTS[role_name]


def role_permission_pairs(role_name: str) -> set[tuple[str, str]]:
    """(permission, resource) pairs of Loket's own a role must hold, menu entries included."""
    grants = _grants(role_name)
    pairs = {(perm, resource) for resource, perms in grants.items() for perm in perms}
    if role_name != PEMOHON:  # staff's own-account screens; the applicant's are the portal's
        pairs |= set(SELF_SERVICE)
    for entry in MENU:
        if page_permission(entry.view) in grants.get(entry.view.class_permission_name, ()):
            pairs |= {("menu_access", entry.name), ("menu_access", entry.category)}
    return pairs


def page_permission(view: type) -> str:
    """The permission a menu entry's page asks for: its default view's (a grid's can_list, a
    report form's can_request, the import's can_import ...). A role sees the entry exactly when
    it holds this."""
    method = view.default_view
    return "can_" + (getattr(view, "method_permission_name", None) or {}).get(method, method)


def sync_roles(appbuilder: AppBuilder) -> None:
    sm = appbuilder.sm
    # FAB grants every new permission to Admin as it creates it, so Admin must exist first.
    admin = sm.find_role(ADMIN) or sm.add_role(ADMIN)
    appbuilder.add_permissions(update_perms=True)
    session = sm.session
    all_pvms = session.query(sm.permissionview_model).all()
    by_pair = {(pvm.permission.name, pvm.view_menu.name): pvm for pvm in all_pvms}

    # Anonymous visitors get nothing from FAB; public pages are plain Flask routes.
    public = sm.find_role(PUBLIC) or sm.add_role(PUBLIC)
    public.permissions = []

    for role_name in (ADMIN, *ROLE_GRANTS, PEMOHON):
        wanted = role_permission_pairs(role_name)
        missing = wanted - by_pair.keys()
        assert not missing, f"role {role_name} names permissions no view has: {sorted(missing)}"
        if role_name == ADMIN:
            # FAB's own screens (users, roles, permissions, API docs) are Admin's whole.
            wanted |= {pair for pair in by_pair if pair[1] not in LOKET_RESOURCES}
        role = admin if role_name == ADMIN else sm.find_role(role_name) or sm.add_role(role_name)
        role.permissions = [by_pair[pair] for pair in sorted(wanted)]
    session.commit()
