"""The whole database schema as Alembic compares it: Flask-AppBuilder's tables and ours."""
from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.security.sqla import models as _fab_models  # noqa: F401  (FAB's tables defined)
from sqlalchemy import MetaData

from app.models import Base
from app.security import officers as _officers  # noqa: F401  (ab_user's NIP and jabatan)


def schema_metadata() -> list[MetaData]:
    """Alembic's target_metadata: FAB's MetaData (ab_user and the rest) and Loket's."""
    return [Model.metadata, Base.metadata]
