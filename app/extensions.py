"""Extension objects shared by every app instance. AppBuilder is made per app in create_app."""
from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# metadata=Model.metadata lets Alembic see FAB's tables and ours in one place.
db = SQLA(metadata=Model.metadata)
migrate = Migrate()
csrf = CSRFProtect()
