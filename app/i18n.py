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
from flask_babel import get_locale, get_translations

from app.request_cache import request_cache

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


def _request_translations() -> NullTranslations:
    memo = request_cache("translations")
    if "catalog" not in memo:
        memo["catalog"] = get_translations()
    return memo["catalog"]


def install_template_gettext(app: Flask) -> None:
    """Jinja's _() as Flask-Babel installs it looks the catalog up on every call (about 120 per
    grid page, a quarter of its rendering); look it up once per request instead."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
