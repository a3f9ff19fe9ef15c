"""Menus follow permissions: every role sees a menu entry exactly when it may open the page behind it."""
from __future__ import annotations

import re

import pytest
from flask import url_for

from app.menu import MENU
from app.security.roles import ALL_ROLES

# The owners' tools each role must find in its own menu (issue 14: they were hidden).
OWN_TOOLS = {
    "Supervisor": {"MonthlyReports", "AuditTrail", "SopSheets"},
    "Arsiparis": {"ArchiveReports", "SpreadsheetImport", "SopSheets"},
    "Front Office": {"SpreadsheetImport", "SopSheets", "Dossiers"},
    "Admin": {"SopSheets", "LocalHolidays"},
}


def _menu_hrefs(html: str) -> set[str]:
    menu = html.split('class="navbar', 1)[1]
    return set(re.findall(r'href="([^"#]+)"', menu))


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_role_sees_an_entry_exactly_when_it_may_open_its_page(app, login_as, role):
    client = login_as(role)
    with app.test_request_context():
        pages = {entry.name: url_for(f"{entry.view.__name__}.{entry.view.default_view}") for entry in MENU}
    # An applicant's home is the portal's (a redirect): its own bar, with none of these entries.
    shown = _menu_hrefs(client.get("/", follow_redirects=True).get_data(as_text=True))
    mismatches = []
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code < 500, url
        may_open = response.status_code == 200
        if may_open != (url in shown):
            mismatches.append(f"{name} ({url}): page {'opens' if may_open else 'refused'}, "
                              f"menu {'shows' if url in shown else 'hides'} it")
    assert not mismatches, f"{role}:\n" + "\n".join(mismatches)
    visible = {name for name, url in pages.items() if url in shown}
    assert OWN_TOOLS.get(role, set()) <= visible, OWN_TOOLS[role] - visible
