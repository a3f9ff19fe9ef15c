"""The SOP engine, the models and the report builders are plain Python: importing them loads no
Flask and no Flask-AppBuilder (a script, a job or a test drives them without a web app)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import app.models  # noqa: F401  (registers the foreign-keys pragma on every engine)

ROOT = Path(__file__).resolve().parents[2]
PLAIN_MODULES = (
    "app.models",
    "app.sop.machine",
    "app.sop.loader",
    "app.sop.numbering",
    "app.sop.intake",
    "app.sop.sheet",
    "app.permits",
    "app.public",
    "app.printing",
    "reports.papers",
)


def _loaded_after_import(module: str) -> list[str]:
    probe = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", PLAIN_MODULES)
def test_importing_loads_no_flask(module):
    loaded = _loaded_after_import(module)
    assert module in loaded
    web = [name for name in loaded if name.split(".")[0] in {"flask", "flask_appbuilder", "flask_babel",
                                                             "flask_login", "flask_sqlalchemy", "werkzeug"}]
    assert web == [], f"{module} loads {web[:5]}"


def test_every_sqlite_connection_checks_foreign_keys():
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
