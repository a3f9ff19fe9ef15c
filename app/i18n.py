"""WTForms' own validation messages in the staff member's language.

WTForms' built-in messages ("This field is required.", "Not a valid choice." ...) are not in
our messages catalog: Flask-WTF translates them from domain "wtforms" in WTForms' own locale
directory, and WTForms ships no Indonesian catalog, so staff saw them in English. Flask-WTF
caches the catalog it loads on ``request.wtforms_translations`` and reuses whatever is already
there, so setting that attribute first makes it read app/translations/<locale>/LC_MESSAGES/
wtforms.mo (built by tools/i18n.sh) instead.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import Flask, request
from flask_babel import get_locale

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "wtforms"


@lru_cache(maxsize=None)
def _catalog(locale: str) -> NullTranslations:
    """The compiled catalog for one locale; NullTranslations (English msgids) if we have none."""
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain=DOMAIN)


def install_wtforms_translations() -> None:
    """before_request hook: hands Flask-WTF our catalog for the request's locale."""
    locale = get_locale()
    request.wtforms_translations = _catalog(str(locale)) if locale is not None else NullTranslations()


def register_wtforms_catalog(app: Flask) -> None:
    """Makes Flask-WTF use Loket's "wtforms" catalog (see module docstring). Idempotent."""
    if install_wtforms_translations not in app.before_request_funcs.setdefault(None, []):
        app.before_request(install_wtforms_translations)
