"""What the benches over the demo data share (dossier_grid, search, workbench): the app on a bench
database with the demo built there when it holds none, a statement counter, a signed-in client.

Not a bench itself: `python bench/demo_app.py --help` says so.
"""
from __future__ import annotations

import argparse
import inspect
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def demo_parser(doc: str) -> argparse.ArgumentParser:
    """A bench's command line: its docstring as --help (first paragraph, then the rest), and the
    demo options (add_demo_arguments)."""
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0],
        epilog="\n\n".join(doc.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_demo_arguments(parser)
    return parser


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every bench over the demo data takes: its size and seed, how many requests,
    which database, and whether to keep or rebuild it."""
    parser.add_argument("--dossiers", "--rows", type=int, default=100_000,
                        help="dossiers of the demo data (when it is built); default 100000")
    parser.add_argument("--repeat", type=int, default=30, help="measured requests per page; default 30")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per page first; default 3")
    parser.add_argument("--seed", type=int, default=76, help="seed of the demo data; default 76")
    parser.add_argument("--database-url", help="PostgreSQL URL (built there if it holds no dossiers); default: "
                        "a fresh SQLite file. Never the test suite's database.")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the data again: with --database-url drop its public schema first, with --keep "
                        "delete the kept database")
    parser.add_argument("--keep", metavar="DIR",
                        help="SQLite: keep the database in DIR and reuse it on later runs with the same DIR")


def driver_url(url: str) -> str:
    """A PostgreSQL URL as SQLAlchemy's psycopg 3 driver takes it; any other URL as it is."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class StatementCounter:
    """SQL statements the engine ran since `count` was last set to 0."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *args) -> None:  # noqa: ANN002
        self.count += 1


def sign_in(client, user_id: int) -> None:  # noqa: ANN001
    """A test client as this user, in Indonesian, without the cost of a password check."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session["locale"] = "id"


def demo_app(database_url: str | None, workdir: Path, dossiers: int, seed: int, rebuild: bool = False):  # noqa: ANN201
    """(app, demo seconds or None, the demo's summary): the app on `database_url` (default a SQLite
    file in workdir), with the demo data of `dossiers` built there first when it holds none."""
    os.environ["LOKET_INSTANCE_PATH"] = str(workdir)
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, func, select, text
    from sqlalchemy import inspect as sa_inspect

    from app import create_app
    from app.bootstrap import load_sop_files
    from app.extensions import db
    from app.models import Dossier
    from app.security.sync import sync_roles
    from config import Config
    from seed.demo import generate

    url = driver_url(database_url or f"sqlite:///{workdir / 'loket.db'}")

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = secrets.token_urlsafe(32)
        RATELIMIT_ENABLED = False
        RATELIMIT_STORAGE_URI = "memory://"
        FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

    if rebuild and not database_url:
        (workdir / "loket.db").unlink(missing_ok=True)
    if rebuild and database_url:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(BenchConfig)
    demo_seconds, summary = None, "(database reused: it already holds dossiers)"
    with app.app_context():
        tables = set(sa_inspect(db.engine).get_table_names())
        has_data = "dossier" in tables and db.session.scalar(select(func.count()).select_from(Dossier))
        if has_data and "alembic_version" not in tables:
            raise SystemExit("The database holds dossiers but was not built by the migrations (bench/bulk_move.py's "
                             "data?): use another database or --rebuild.")
        if not has_data:
            upgrade()
            sync_roles(app.appbuilder)
            load_sop_files()
            started = time.perf_counter()
            options = {"with_documents": True} if "with_documents" in inspect.signature(generate).parameters else {}
            summary = generate(dossiers, seed, **options)
            demo_seconds = time.perf_counter() - started
    return app, demo_seconds, summary


def user(app, username: str, role: str) -> int:  # noqa: ANN001
    """The id of a bench user with this one role, made when missing."""
    with app.app_context():
        sm = app.appbuilder.sm
        found = sm.find_user(username=username) or sm.add_user(
            username, role, "Bench", f"{username}@uji.example", sm.find_role(role), password="x")
        return found.id


if __name__ == "__main__":
    print(__doc__)
