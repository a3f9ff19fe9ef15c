def test_front_office_sees_dossier_grid(login_as):
    client = login_as("Front Office")
    page = client.get("/dossierview/list/")
    assert page.status_code == 200


def test_anonymous_is_sent_to_login(login_as):
    page = login_as(None).get("/dossierview/list/")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]
