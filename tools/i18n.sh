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
#
# After running: fill every empty msgstr in app/translations/id/LC_MESSAGES/messages.po (keep
# %(name)s placeholders), run this script again to compile, then
#   python -m pytest tests/unit/test_translations.py
# The test fails on any untranslated msgid, a stale .mo or a changed placeholder.
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
fab_kw = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "__": None}
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
