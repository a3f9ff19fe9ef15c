"""The Indonesian "wtforms" catalog covers WTForms' messages (and FAB's field.gettext() ones).

WTForms ships no Indonesian catalog; app/translations/id/LC_MESSAGES/wtforms.{po,mo} is ours and
app/i18n.py hands it to Flask-WTF. Rebuild it with tools/i18n.sh.
"""
from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import flask_appbuilder
import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask
from flask_babel import Babel
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Length

from app.i18n import install_wtforms_translations, register_wtforms_catalog

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
PO = TRANSLATIONS / "id" / "LC_MESSAGES" / "wtforms.po"
MO = PO.with_suffix(".mo")
WTFORMS_POT = Path(messages_path()) / "wtforms.pot"
# printf-style conversions, named or positional (%(code)s, %s, %d ...); "%%" is a literal.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
NAMED = re.compile(r"%\(([^)]*)\)")


def _msgid(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _fab_field_gettext_msgids() -> list[str]:
    """Literal msgids FAB passes to self.gettext()/field.gettext(): WTForms routes them to domain "wtforms"."""
    fab_dir = Path(flask_appbuilder.__file__).resolve().parent
    found: list[str] = []
    for path in sorted(fab_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "gettext"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("self", "field")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value not in found
            ):
                found.append(node.args[0].value)
    return found


POT_MESSAGES: list[Message] = [m for m in _read(WTFORMS_POT) if m.id]
FAB_MSGIDS = _fab_field_gettext_msgids()


@pytest.fixture(scope="module")
def compiled() -> Translations:
    translations = Translations.load(str(TRANSLATIONS), ["id"], domain="wtforms")
    assert isinstance(translations, Translations), f"no compiled catalog at {MO}"
    return translations


def _translations_of(compiled: Translations, message_id: str | tuple[str, ...]) -> list[str]:
    # _catalog holds msgid -> msgstr ((msgid, n) -> msgstr[n] for plurals); gettext() alone
    # cannot tell a missing entry from the English fallback.
    catalog = compiled._catalog  # noqa: SLF001
    if isinstance(message_id, str):
        return [catalog.get(message_id, "")]
    return [catalog.get((message_id[0], 0), "")]


def test_wtforms_template_is_where_we_expect() -> None:
    assert len(POT_MESSAGES) > 30, f"{WTFORMS_POT} has only {len(POT_MESSAGES)} msgids"
    assert "This field is required." in {_msgid(m.id) for m in POT_MESSAGES}
    assert any(m.pluralizable for m in POT_MESSAGES)


@pytest.mark.parametrize("message", POT_MESSAGES, ids=lambda m: _msgid(m.id)[:40])
def test_every_wtforms_msgid_is_translated(compiled: Translations, message: Message) -> None:
    for text in _translations_of(compiled, message.id):
        assert text, f"WTForms msgid {_msgid(message.id)!r} has no Indonesian translation; run tools/i18n.sh"
        assert text != _msgid(message.id), f"WTForms msgid {_msgid(message.id)!r} is left in English"


@pytest.mark.parametrize("msgid", FAB_MSGIDS)
def test_fab_field_gettext_msgids_are_translated(compiled: Translations, msgid: str) -> None:
    text = _translations_of(compiled, msgid)[0]
    assert text and text != msgid, f"FAB's field.gettext({msgid!r}) is not in the wtforms catalog; run tools/i18n.sh"


def test_fab_scan_finds_its_known_strings() -> None:
    assert {"Already exists.", "Not a valid choice"} <= set(FAB_MSGIDS)


def test_plural_messages_use_the_single_indonesian_form(compiled: Translations) -> None:
    singular = "Field must be at least %(min)d character long."
    plural = "Field must be at least %(min)d characters long."
    one = compiled.ungettext(singular, plural, 1)
    many = compiled.ungettext(singular, plural, 8)
    assert one == many != singular
    assert many % {"min": 8} == "Isian harus terdiri atas sekurang-kurangnya 8 karakter."


def test_key_messages_read_naturally(compiled: Translations) -> None:
    assert compiled.ugettext("This field is required.") == "Kolom ini wajib diisi."
    assert compiled.ugettext("Not a valid choice.") == "Pilihan tidak valid."
    assert compiled.ugettext("Invalid email address.") == "Alamat email tidak valid."


def test_placeholders_are_kept_and_format() -> None:
    broken = []
    for message in _read(PO, "id"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = _placeholders(ids[-1])
        for text in strings:
            if _placeholders(text) != wanted:
                broken.append(f"{ids[0]!r}: {wanted} -> {_placeholders(text)} in {text!r}")
                continue
            names = NAMED.findall(text)
            args = {name: 7 for name in names} if names else tuple("x" for _ in wanted)
            try:
                text % args  # noqa: B018 - formatting is the check
            except (KeyError, TypeError, ValueError) as exc:
                broken.append(f"{ids[0]!r}: {text!r} does not format ({exc})")
    assert not broken, "msgstr breaks printf placeholders:\n  " + "\n  ".join(broken)


def test_po_header_and_entries_are_complete() -> None:
    catalog = _read(PO, "id")
    assert str(catalog.locale) == "id"
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    assert not catalog.fuzzy, "the header is marked fuzzy; pybabel compile would skip the catalog"
    fuzzy = [_msgid(m.id) for m in catalog if m.id and m.fuzzy]
    empty = [_msgid(m.id) for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"empty msgstr: {empty}"
    assert not catalog.obsolete, f"obsolete entries: {list(catalog.obsolete)}"


def test_po_holds_exactly_the_template_msgids() -> None:
    expected = {_msgid(m.id) for m in POT_MESSAGES} | set(FAB_MSGIDS)
    actual = {_msgid(m.id) for m in _read(PO, "id") if m.id}
    assert actual == expected, (
        f"wtforms.po is out of date with the installed WTForms/FAB; run tools/i18n.sh. "
        f"missing: {sorted(expected - actual)}, extra: {sorted(actual - expected)}"
    )


def test_compiled_mo_is_not_stale() -> None:
    expected = io.BytesIO()
    write_mo(expected, _read(PO, "id"))
    assert MO.read_bytes() == expected.getvalue(), (
        f"{MO.relative_to(ROOT)} does not match {PO.name}; run tools/i18n.sh (or pybabel compile -D wtforms)"
    )


# --- the hook in app/i18n.py, on a bare Flask app (no database) -------------------------------


class _NameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=3)])


@pytest.fixture()
def bare_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="unit", WTF_CSRF_ENABLED=False, TESTING=True)
    app.locale = "id"
    Babel(app, locale_selector=lambda: app.locale)
    register_wtforms_catalog(app)
    return app


def _errors(app: Flask, locale: str, data: dict) -> list[str]:
    app.locale = locale
    with app.test_request_context("/", method="POST", data=data):
        app.preprocess_request()
        form = _NameForm()
        assert not form.validate()
        return form.name.errors


def test_registration_is_idempotent(bare_app: Flask) -> None:
    register_wtforms_catalog(bare_app)
    assert bare_app.before_request_funcs[None].count(install_wtforms_translations) == 1


def test_flask_wtf_speaks_indonesian_for_id(bare_app: Flask) -> None:
    assert _errors(bare_app, "id", {"name": ""}) == ["Kolom ini wajib diisi."]
    assert _errors(bare_app, "id", {"name": "abcdef"}) == ["Isian tidak boleh lebih dari 3 karakter."]


def test_english_stays_english(bare_app: Flask) -> None:
    assert _errors(bare_app, "en", {"name": ""}) == ["This field is required."]
    assert _errors(bare_app, "en", {"name": "abcdef"}) == ["Field cannot be longer than 3 characters."]
