"""Extension objects shared by every app instance. AppBuilder is made per app in create_app."""
from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from app.models import NAMING_CONVENTION

# FAB's security tables (defined once FAB's security models are imported, after this line) are
# named by the same convention as ours, as migration 0001 created them.
Model.metadata.naming_convention = NAMING_CONVENTION
# FAB's metadata here; Alembic sees FAB's tables and ours together (app.schema).
db = SQLA(metadata=Model.metadata)
migrate = Migrate()
csrf = CSRFProtect()
