"""The Indonesian catalog covers every string we mark, FAB's key strings, and its .mo is fresh.

No Flask app needed: everything goes through Babel's API. Rebuild the catalog with tools/i18n.sh.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
PO = TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# printf-style conversions, named or positional (%(code)s, %s, %d ...); "%%" is a literal.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")

# Flask-AppBuilder strings every staff user meets (grids, forms, login, flash messages).
FAB_KEY_STRINGS = [
    "Search",
    "Actions",
    "Show",
    "Edit",
    "Delete",
    "Add",
    "Save",
    "Back",
    "Are you sure you want to delete this item?",
    "Sign In",
    "Username",
    "Password",
    "Record Count",
    "Added Row",
    "Changed Row",
    "Deleted Row",
    "Access is Denied",
    "Invalid login. Please try again.",
    "Associated data exists, please delete them first",
    "List Users",
    "List Roles",
    "Security",
    "Logout",
    "Profile",
    "Equal to",
    "Starts with",
    "Contains",
]


def _read_po() -> Catalog:
    with PO.open("rb") as fh:
        return read_po(fh, locale="id")


def _placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


def _msgid(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


@pytest.fixture(scope="module")
def compiled() -> Translations:
    translations = Translations.load(str(TRANSLATIONS), ["id"])
    assert isinstance(translations, Translations), f"no compiled catalog at {MO}"
    return translations


@pytest.fixture(scope="module")
def our_msgids() -> dict[str, str]:
    """msgid -> first place it is used, extracted with babel.cfg exactly as tools/i18n.sh does."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(_msgid(message), f"{filename}:{lineno}")
    return found


def _translation(translations: Translations, msgid: str) -> str:
    # GNUTranslations keeps msgid -> msgstr in _catalog; gettext() alone cannot tell a missing
    # entry from one translated to the same text (e.g. "NIK").
    catalog = translations._catalog  # noqa: SLF001
    return catalog.get(msgid) or catalog.get((msgid, 0)) or ""


def test_extraction_finds_our_strings(our_msgids: dict[str, str]) -> None:
    assert "Dossiers" in our_msgids, "babel.cfg no longer reaches app/**.py"
    assert "Open dossiers" in our_msgids, "babel.cfg no longer reaches app/templates/**.html"


def test_every_msgid_in_our_code_is_translated(compiled: Translations, our_msgids: dict[str, str]) -> None:
    missing = sorted(f"{msgid!r} ({where})" for msgid, where in our_msgids.items() if not _translation(compiled, msgid))
    assert not missing, (
        f"{len(missing)} msgid(s) have no Indonesian translation; run tools/i18n.sh, translate, re-run:\n  "
        + "\n  ".join(missing)
    )


@pytest.mark.parametrize("msgid", FAB_KEY_STRINGS)
def test_key_flask_appbuilder_strings_are_translated(compiled: Translations, msgid: str) -> None:
    translated = _translation(compiled, msgid)
    assert translated and translated != msgid, f"FAB string {msgid!r} is not translated into Indonesian"


def test_domain_vocabulary(compiled: Translations) -> None:
    assert compiled.gettext("Dossiers") == "Berkas Permohonan"
    assert compiled.gettext("Receipt no.") == "Nomor Pendaftaran"
    assert compiled.gettext("Stage") == "Tahapan"
    assert compiled.gettext("Time standard") == "Mutu baku waktu"


def test_compiled_mo_is_not_stale() -> None:
    expected = io.BytesIO()
    write_mo(expected, _read_po())
    assert MO.read_bytes() == expected.getvalue(), (
        f"{MO.relative_to(ROOT)} does not match {PO.name}; run tools/i18n.sh (or pybabel compile)"
    )


def test_po_header_and_entries_are_complete() -> None:
    catalog = _read_po()
    assert str(catalog.locale) == "id"
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    fuzzy = [_msgid(m.id) for m in catalog if m.id and m.fuzzy]
    empty = [
        _msgid(m.id)
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"empty msgstr: {empty}"


def test_placeholders_are_kept() -> None:
    broken = []
    for message in _read_po():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = _placeholders(ids[-1])
        for text in strings:
            if text and _placeholders(text) != wanted:
                broken.append(f"{_msgid(message.id)!r}: {wanted} -> {_placeholders(text)} in {text!r}")
    assert not broken, "msgstr changes printf placeholders:\n  " + "\n  ".join(broken)
