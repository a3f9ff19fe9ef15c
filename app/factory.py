"""create_app(): one independent Flask app per call, with every extension, view and command."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request
from flask_appbuilder import AppBuilder
from werkzeug.exceptions import NotFound
from werkzeug.middleware.proxy_fix import ProxyFix

from app import models  # noqa: F401  (every table known before migrations run)
from app.cli import loket_cli
from app.errors import init_error_pages
from app.extensions import db, migrate
from app.i18n import install_template_gettext, register_wtforms_catalog
from app.jobs.queue import init_jobs
from app.mail import init_mail
from app.menu import register_views
from app.private_files import private_dir, private_sqlite_file
from app.secrets import load_or_create_secret_key
from app.security.accounts import init_accounts
from app.security.audit import init_audit
from app.security.csrf import init_csrf
from app.security.headers import init_headers
from app.templating import register_template_helpers
from app.views.audit import register_audit_helpers
from app.views.batch_signing import register_batch_signing_helpers
from app.views.documents import register_document_helpers
from app.views.dossier_page import register_applicant_side_helpers
from app.views.notifications import init_bell
from app.views.papers import register_paper_helpers
from app.views.reports import register_report_helpers
from app.views.timeline import register_dossier_page_helpers
from app.views.workbench import register_workbench_helpers
from app.whatsapp import init_whatsapp
from config import BASE_DIR, Config


def create_app(config_class: type[Config] = Config) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("LOKET_INSTANCE_PATH") or str(BASE_DIR / "instance"))
    app.config.from_object(config_class)
    private_dir(Path(app.instance_path))
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'loket.db'}"
    # Made 0600 here, before the first connect: pysqlite would create it by the umask (0644).
    private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)
    _normalize_database_url(app)
    # FAB's download endpoints read from here; nothing of ours is stored in it.
    app.config.setdefault("UPLOAD_FOLDER", str(Path(app.instance_path) / "fab-uploads"))
    # Uploaded papers and signed permits (content-addressed, app.uploads).
    app.config.setdefault("DOCUMENTS_DIR", str(Path(app.instance_path) / "documents"))

    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    init_accounts(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    init_mail(app)
    init_whatsapp(app)
    init_headers(app)  # first of the before_request hooks: error pages need its nonce
    init_csrf(app)
    init_audit(app)
    with app.app_context():
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
    register_template_helpers(app)
    register_dossier_page_helpers(app)
    init_bell(app)
    register_document_helpers(app)
    register_workbench_helpers(app)
    register_applicant_side_helpers(app)
    register_batch_signing_helpers(app)
    register_paper_helpers(app)
    register_report_helpers(app)
    register_audit_helpers(app)
    register_wtforms_catalog(app)
    install_template_gettext(app)
    app.register_error_handler(FileNotFoundError, _missing_download)
    init_error_pages(app)
    init_jobs(app)
    app.cli.add_command(loket_cli)
    return app


def _missing_download(error: FileNotFoundError):  # noqa: ANN202
    """FAB's generic download endpoints raise on an unknown file name; that is a 404, not a 500."""
    if request.endpoint and request.endpoint.endswith(".download"):
        return NotFound().get_response()
    raise error


def _normalize_database_url(app: Flask) -> None:
    """postgres:// and postgresql:// go through psycopg 3, the driver we install."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith("sqlite"):
        # Staff and the job consumer write at once; wait for the lock instead of failing.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
