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
