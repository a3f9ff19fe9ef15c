"""`flask --app run.py loket ...` commands."""
from __future__ import annotations

import datetime as dt
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect

from app.bootstrap import bootstrap, load_sop_files
from app.dashboard import tallies
from app.extensions import db
from app.jobs.queue import create_consumer
from app.models import PermitType
from app.office import office_calendar
from app.sop.schema import SopFileError
from seed.demo import generate


@click.group("loket", help="Loket administration.")
def loket_cli() -> None:
    pass


@loket_cli.command("init", help="Migrate, sync roles, load SOP files, create the admin. Idempotent.")
def init_command() -> None:
    try:
        report = bootstrap(current_app._get_current_object())
    except SopFileError as exc:
        raise click.ClickException(f"SOP ditolak, tidak ada yang diubah: {exc}") from exc
    print_report(report)


def print_report(report) -> None:  # noqa: ANN001
    for result in report.sops:
        click.echo(f"SOP {result.code}: {'dimuat' if result.changed else 'tidak berubah'}")
    if report.admin_password:
        click.echo(f"Admin dibuat: username 'admin', kata sandi '{report.admin_password}' (ditampilkan sekali ini saja)")
    elif report.admin_created:
        click.echo("Admin dibuat dengan kata sandi dari LOKET_ADMIN_PASSWORD")


@loket_cli.command("load-sop", help="Load SOP YAML files (default: seed/sop).")
@click.option("--dir", "directory", default=None, help="Folder with *.yaml SOP files.")
@with_appcontext
def load_sop_command(directory: str | None) -> None:
    try:
        results = load_sop_files(directory)
    except SopFileError as exc:
        raise click.ClickException(f"SOP ditolak, tidak ada yang diubah: {exc}") from exc
    for result in results:
        click.echo(f"SOP {result.code}: {'dimuat' if result.changed else 'tidak berubah'}")


@loket_cli.command(
    "demo", help="Fill an empty database with realistic, deterministic demo data; on a fresh database runs init first."
)
@click.option("--dossiers", default=1000, show_default=True, type=click.IntRange(min=0))
@click.option("--seed", default=76, show_default=True, type=int)
@with_appcontext
def demo_command(dossiers: int, seed: int) -> None:
    app = current_app._get_current_object()
    if not inspect(db.engine).has_table(PermitType.__tablename__):
        # A fresh instance: set it up as `loket init` does, rather than fail on a missing table.
        click.echo("Skema basis data belum ada: menjalankan `loket init` dulu.")
        try:
            print_report(bootstrap(app))
        except SopFileError as exc:
            raise click.ClickException(f"SOP ditolak, tidak ada yang diubah: {exc}") from exc
    summary = generate(dossiers=dossiers, seed=seed)
    click.echo(summary)


@loket_cli.command("dashboard", help="Count the dashboard's daily figures now (the job does it every 5 minutes).")
@click.option("--rebuild", is_flag=True, help="Count every day again, not only those with news since the last run.")
@with_appcontext
def dashboard_command(rebuild: bool) -> None:
    started = time.perf_counter()
    report = tallies.refresh(db.session, office_calendar(), dt.datetime.now(dt.timezone.utc), rebuild=rebuild)
    click.echo(f"Dasbor: {report.days} hari dihitung dalam {time.perf_counter() - started:.1f} detik.")


@loket_cli.command("worker", help="Run a report job consumer (Huey) until stopped; run as many as needed.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1), help="Worker threads.")
def worker_command(workers: int) -> None:
    app = current_app._get_current_object()
    if app.config.get("JOBS_IMMEDIATE"):
        raise click.ClickException("JOBS_IMMEDIATE aktif: tugas dijalankan langsung, tidak perlu konsumen.")
    click.echo(f"Konsumen tugas laporan: {workers} pekerja, antrean {type(app.extensions['loket_jobs'].huey).__name__}")
    create_consumer(app, workers).run()
