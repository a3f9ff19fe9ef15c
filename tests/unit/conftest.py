"""Unit fixtures: a bare SQLAlchemy session with SOP 76 loaded, no Flask app."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.audit import set_reason
from app.models import create_all
from app.security.roles import STAGE_ROLES
from app.sop.loader import load_sops, parse_sop_dir

SEED_SOP_DIR = Path(__file__).resolve().parents[2] / "seed" / "sop"


@pytest.fixture()
def session(tmp_path: Path):
    engine = create_engine("sqlite://")
    create_all(engine)
    shutil.copytree(SEED_SOP_DIR, tmp_path / "sop")
    with Session(engine) as session:
        load_sops(session, parse_sop_dir(tmp_path / "sop", STAGE_ROLES, 510))
        # Tests arrange dossiers by editing them; such edits need a reason (app.changes).
        set_reason(session, "penyiapan data uji")
        yield session
    engine.dispose()
