def test_front_office_sees_dossier_grid(login_as):
    client = login_as("Front Office")
    page = client.get("/dossierview/list/")
    assert page.status_code == 200


def test_anonymous_is_sent_to_login(login_as):
    page = login_as(None).get("/dossierview/list/")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]


def test_the_favicon_is_served_not_a_404(login_as):
    """Browsers ask for it on every page; a 404 is a console error on each (the browser tests
    allow none)."""
    icon = login_as(None).get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
