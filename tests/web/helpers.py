from __future__ import annotations

import html

from flask import Flask
from flask_babel import force_locale, gettext


def indonesian(app: Flask, msgid: str, **kwargs) -> str:  # noqa: ANN003
    """The Indonesian text staff see for an English msgid; fails if it is untranslated."""
    with app.test_request_context(), force_locale("id"):
        text = gettext(msgid, **kwargs)
    assert text != msgid % kwargs if kwargs else text != msgid, f"untranslated: {msgid!r}"
    return text


def page_text(response) -> str:  # noqa: ANN001
    return html.unescape(response.get_data(as_text=True))


def statements_of(app: Flask, client, url: str) -> tuple[list[str], str]:  # noqa: ANN001
    """(the SQL statements a GET of url ran, the page's text); the page must answer 200."""
    from sqlalchemy import event

    from app.extensions import db

    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202, ARG001
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return seen, page_text(response)
