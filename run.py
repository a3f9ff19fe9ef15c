"""One command runs everything: `python run.py` migrates, seeds, creates the admin, starts a
report job consumer in this process (LOKET_EMBEDDED_CONSUMER=0 leaves that to `loket worker`)
and serves.

`flask --app run.py ...` finds create_app here for the CLI (`loket init`, `loket demo`).
"""
from __future__ import annotations

import logging
import os

from app import create_app

__all__ = ["create_app", "main"]


def main() -> None:
    from waitress import serve

    from app.bootstrap import bootstrap
    from app.cli import print_report
    from app.jobs.queue import start_embedded_consumer
    from app.sop.schema import SopFileError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    try:
        report = bootstrap(app)
    except SopFileError as exc:
        raise SystemExit(f"SOP ditolak, tidak ada yang diubah: {exc}") from exc
    print_report(report)
    if os.environ.get("LOKET_EMBEDDED_CONSUMER", "1") != "0":
        start_embedded_consumer(app, workers=int(os.environ.get("LOKET_JOB_WORKERS", "2")))
    host = os.environ.get("LOKET_HOST", "127.0.0.1")
    port = int(os.environ.get("LOKET_PORT", "8080"))
    print(f"Loket berjalan di http://{host}:{port}", flush=True)
    serve(app, host=host, port=port, threads=int(os.environ.get("LOKET_THREADS", "8")))


if __name__ == "__main__":
    main()
