#!/usr/bin/env bash
# Rebuild Loket's Indonesian catalog (app/translations/id/LC_MESSAGES/messages.{po,mo}).
#
# Usage (from anywhere):   tools/i18n.sh            # extract, update, compile
#                          PYTHON=/path/python tools/i18n.sh
#
# What it does:
#   1. Builds one template (POT) in a temp dir from
#        - our code: babel.cfg (app/**.py, app/templates/**.html), keywords _l, lazy_gettext, _, gettext;
#        - the installed Flask-AppBuilder: its .py files and templates (keywords _, __, gettext,
#          lazy_gettext) plus every msgid its own shipped catalogs list (some, e.g. "General Error",
#          "Remember me", are no longer in its source but still listed). Flask-Babel only reads
#          FAB's catalogs for the locales FAB ships, and it ships no "id", so FAB's strings
#          must live in OUR id catalog.
#   2. `pybabel update` (or `init` the first time) into app/translations, no fuzzy matching,
#      obsolete entries dropped.
#   3. `pybabel compile` and prints how many strings are still untranslated.
#   4. The same three steps for WTForms' own validation messages ("This field is required.",
#      "Not a valid choice." ...), domain "wtforms", into wtforms.{po,mo} next to messages.po:
#      the template is the installed WTForms' wtforms.pot plus the msgids Flask-AppBuilder's
#      fields/validators pass to field.gettext() ("Already exists.", "Not a valid choice").
#      WTForms ships no "id" catalog; app/i18n.py points Flask-WTF at this one.
#
# After running: fill every empty msgstr in app/translations/id/LC_MESSAGES/messages.po and
# wtforms.po (keep %(name)s placeholders), run this script again to compile, then
#   python -m pytest tests/unit/test_translations.py tests/unit/test_wtforms_catalog.py
# The tests fail on any untranslated msgid, a stale .mo or a changed placeholder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/../venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
PYBABEL=("$PYTHON" -m babel.messages.frontend)
LOCALE=id
PO="$ROOT/app/translations/$LOCALE/LC_MESSAGES/messages.po"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
POT="$TMP/messages.pot"

cd "$ROOT"
"$PYTHON" - "$POT" <<'PY'
"""Writes one POT: our msgids first, then Flask-AppBuilder's (marked with a #. comment)."""
import io
import os
import sys
from pathlib import Path

import flask_appbuilder
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

out = sys.argv[1]
pot = Catalog(project="Loket", version="1.0", msgid_bugs_address="", copyright_holder="DPMPTSPTK Kabupaten Landak", fuzzy=False)

ours_kw = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
with open("babel.cfg", encoding="utf-8") as fh:
    method_map, options_map = parse_mapping_cfg(fh)
for filename, lineno, msg, comments, ctx in extract_from_dir(".", method_map, options_map, keywords=ours_kw):
    pot.add(msg, locations=[(filename, lineno)], auto_comments=comments, context=ctx)

fab_dir = Path(flask_appbuilder.__file__).resolve().parent
fab_version = getattr(flask_appbuilder, "__version__", "?")
note = f"Flask-AppBuilder {fab_version}"
# lazy_formatter_gettext: FAB's user form help texts ("The user group on the application, ...").
fab_kw = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "__": None, "lazy_formatter_gettext": (1,)}
fab_map = [("translations/**", "ignore"), ("**.py", "python"), ("**/templates/**.html", "jinja2")]
fab_opts = {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}


def add_fab(msgid, location):
    if not msgid or msgid in pot:
        return
    pot.add(msgid, locations=[location] if location else (), auto_comments=[note])


for filename, lineno, msg, _c, _ctx in extract_from_dir(str(fab_dir), fab_map, fab_opts, keywords=fab_kw):
    add_fab(msg, (f"flask_appbuilder/{filename}", lineno))

# Msgids FAB's own catalogs list (some only there). Their date headers are not always
# parseable by Babel, so drop those two lines before reading.
for po_path in sorted((fab_dir / "translations").glob("*/LC_MESSAGES/messages.po")):
    lines = [l for l in po_path.read_bytes().splitlines(keepends=True)
             if not l.startswith((b'"POT-Creation-Date', b'"PO-Revision-Date'))]
    for m in read_po(io.BytesIO(b"".join(lines))):
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        # One shipped catalog (el) has a Greek msgid; msgids are English.
        if msgid and msgid.isascii():
            add_fab(m.id, None)

with open(out, "wb") as fh:
    write_po(fh, pot, width=100, sort_by_file=False)
print(f"template: {len(pot)} msgids", file=sys.stderr)
PY

if [ -f "$PO" ]; then
    "${PYBABEL[@]}" update -i "$POT" -d app/translations -l "$LOCALE" -D messages \
        --no-fuzzy-matching --ignore-obsolete -w 100
else
    "${PYBABEL[@]}" init -i "$POT" -d app/translations -l "$LOCALE" -D messages -w 100
fi
"${PYBABEL[@]}" compile -d app/translations -l "$LOCALE" -D messages --statistics

# --- WTForms' validation messages: domain "wtforms" -------------------------------------------
WTF_PO="$ROOT/app/translations/$LOCALE/LC_MESSAGES/wtforms.po"
WTF_POT="$TMP/wtforms.pot"
"$PYTHON" - "$WTF_POT" "$LOCALE" <<'PY'
"""Writes the wtforms-domain POT: WTForms' msgids, then FAB's field.gettext() msgids.

The template carries the target locale so plural entries get as many msgstr[n] as that
locale has plural forms (Indonesian: one), not the English two.
"""
import ast
import sys
from pathlib import Path

import flask_appbuilder
import wtforms
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from wtforms.i18n import messages_path

out, locale = sys.argv[1], sys.argv[2]
pot = Catalog(locale=locale, project="Loket", version="1.0", msgid_bugs_address="", copyright_holder="DPMPTSPTK Kabupaten Landak", fuzzy=False)

wtforms_note = f"WTForms {wtforms.__version__}"
with open(Path(messages_path()) / "wtforms.pot", "rb") as fh:
    for m in read_po(fh):
        if m.id:
            pot.add(m.id, locations=m.locations, flags=m.flags, auto_comments=[wtforms_note])

# Flask-AppBuilder's fields and validators call field.gettext()/self.gettext(): WTForms routes
# those through the form's translations (Flask-WTF: domain "wtforms"), not through Flask-Babel.
fab_dir = Path(flask_appbuilder.__file__).resolve().parent
fab_note = f"Flask-AppBuilder {getattr(flask_appbuilder, '__version__', '?')}: field.gettext()"
for path in sorted(fab_dir.rglob("*.py")):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "gettext"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("self", "field")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            msgid = node.args[0].value
            location = (f"flask_appbuilder/{path.relative_to(fab_dir).as_posix()}", node.lineno)
            if msgid in pot:
                if pot[msgid].auto_comments == [fab_note]:
                    pot[msgid].locations.append(location)
                continue
            pot.add(msgid, locations=[location], auto_comments=[fab_note])

with open(out, "wb") as fh:
    write_po(fh, pot, width=100, sort_by_file=False)
print(f"wtforms template: {len(pot)} msgids", file=sys.stderr)
PY

if [ -f "$WTF_PO" ]; then
    "${PYBABEL[@]}" update -i "$WTF_POT" -d app/translations -l "$LOCALE" -D wtforms \
        --no-fuzzy-matching --ignore-obsolete -w 100
else
    "${PYBABEL[@]}" init -i "$WTF_POT" -d app/translations -l "$LOCALE" -D wtforms -w 100
fi
"${PYBABEL[@]}" compile -d app/translations -l "$LOCALE" -D wtforms --statistics
