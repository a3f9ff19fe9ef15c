"""Benchmark: the applicant's portal (issue 16): the home and the online submission at 100,000
dossiers, and many applicants submitting at once under gunicorn on PostgreSQL.

What it measures
  IN PROCESS (Flask's test client, routing to rendered HTML or the redirect, no HTTP server):
    home      GET /pemohon/                      an applicant's home: their companies and
                                                 applications with stage, status and promise
    submit    POST /pemohon/permohonan/baru      one application for one of their companies,
                                                 with two PDF papers uploaded into their slots:
                                                 the dossier opened through the SOP, its receipt
                                                 number, the papers stored, the audit trail
    BASELINE  the Dossier grid's default page (/dossierview/list/) as a Front Office officer, in
              the same app, process and run, interleaved with the two above in a rotating order.
    The applicants are demo applicants (with their dossiers) given an account each. The form of
    a submission is fetched before its timed POST (a browser does the same); only the POST is timed.
    Per page: p50 and p95 wall-clock ms over --repeat requests after --warmup, SQL statements, and
    the ratio of its p50 to the baseline's.
  AT ONCE (--concurrent N, PostgreSQL only, --database-url): gunicorn (-w --workers, the
    README's "At scale" command) on that database; N applicants each sign in on the portal's own
    form (/pemohon/masuk), fetch the application form, wait at a barrier, and submit together
    from N threads. Reported: how many answered 5xx, how many submissions landed, whether every
    receipt number is distinct (read back from the database), and the submissions' p50/p95/max
    wall-clock under that load. The gunicorn log must hold no traceback or worker timeout.

Data: as the other benches over the demo (bench/demo_app.py): the demo of --dossiers when the
database holds none. Each run adds its own submissions (--repeat + --warmup in process, N at once).

Targets (issue 16): home and submission p50 <= 300 ms at 100,000 dossiers; N = 200 at once all get
distinct registration numbers and no 500. "misses" lists what did not meet them.

The LAST line printed is one JSON object:
  {"dossiers", "database", "repeat", "baseline": {"url", "p50_ms", "p95_ms", "sql"},
   "pages": {"home"|"submit": {"p50_ms", "p95_ms", "sql", "ratio"}},
   "concurrent": {"applicants", "workers", "status_5xx", "submitted", "distinct_numbers", "p50_ms",
                  "p95_ms", "max_ms", "wall_seconds"} or null, "target_ms", "misses"}

Usage: python bench/portal_submit.py [--dossiers 100000] [--repeat 30] [--warmup 3]
       python bench/portal_submit.py --database-url postgresql://postgres@127.0.0.1/scratch --concurrent 200
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from demo_app import ROOT, StatementCounter, demo_app, demo_parser, sign_in, user

TARGET_MS = 300.0
BASELINE = "/dossierview/list/"
HOME = "/pemohon/"
APPLY = "/pemohon/permohonan/baru"
LOGIN = "/pemohon/masuk"
PASSWORD = "Bench-portal-sandi-76!"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_DOSSIER = re.compile(r"/pemohon/berkas/(\d+)")
# What a refused form says (its error lines and alerts), for a bench that stops on one.
_PROBLEMS = re.compile(r'class="(?:help-block text-danger|alert alert-(?:danger|warning)[^"]*)"[^>]*>([^<]+)<')
# Two of the SOP's papers (by requirement code) uploaded with every submission.
PAPERS = ("SURAT_PERMOHONAN", "KTP_PENANGGUNG_JAWAB")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _pdf(text: str) -> bytes:
    """A small valid one-page PDF (the upload checks read its header and end-of-file mark); each
    paper its own text, as the same file twice in one dossier is refused (app.documents)."""
    from io import BytesIO

    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def applicants(app, count: int) -> list[dict]:  # noqa: ANN001
    """`count` demo applicants with dossiers, each given a portal account (made once, kept)."""
    from sqlalchemy import func, select
    from werkzeug.security import generate_password_hash

    from app.audit import changes_by
    from app.extensions import db
    from app.models import Applicant, Dossier, PermitType, RequirementType
    from app.security.roles import PEMOHON

    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role(PEMOHON)
        # Cheap to check: the bench measures the portal, not scrypt (the login's hash is read from it).
        hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        busy = (select(Dossier.applicant_id, func.count().label("n")).group_by(Dossier.applicant_id)
                .order_by(func.count().desc(), Dossier.applicant_id).limit(count).subquery())
        rows = db.session.execute(select(Applicant).join(busy, busy.c.applicant_id == Applicant.id)).scalars().all()
        permit_type = db.session.scalars(select(PermitType).order_by(PermitType.id)).first()
        slots = dict(db.session.execute(select(RequirementType.code, RequirementType.id)
                                        .where(RequirementType.permit_type_id == permit_type.id)).all())
        found = []
        with changes_by(db.session, reason="Bench: akun portal untuk pemohon contoh"):
            for applicant in rows:
                if applicant.account_id is None:
                    email = f"pemohon.bench.{applicant.id}@uji.example"
                    account = sm.find_user(username=email) or sm.add_user(
                        email, applicant.full_name[:64], "-", email, role, hashed_password=hashed)
                    applicant.account_id = account.id
                    applicant.email = email
                company_id = applicant.company_id or db.session.scalar(
                    select(Dossier.company_id).where(Dossier.applicant_id == applicant.id).limit(1))
                found.append({"user_id": applicant.account_id, "email": applicant.email, "company_id": company_id})
            db.session.commit()
        return [{**a, "permit_type_id": permit_type.id, "slots": [slots[c] for c in PAPERS]} for a in found]


def _form(applicant: dict) -> dict:
    return {"permit_type_id": str(applicant["permit_type_id"]), "company_id": str(applicant["company_id"]),
            "site_address": "Jl. Bench No. 76, Ngabang", "site_area_m2": "1200", "vehicle_capacity": "24",
            "position": "Direktur"}


def measure(app, people: list[dict], repeat: int, warmup: int) -> dict[str, list[dict]]:  # noqa: ANN001
    """Home, submit and the baseline `warmup + repeat` times each, in a rotating order."""
    from io import BytesIO

    from app.extensions import db
    from app.security.roles import FRONT_OFFICE

    with app.app_context():
        counter = StatementCounter(db.engine)
    officer = app.test_client()
    sign_in(officer, user(app, "bench_front_office", FRONT_OFFICE))
    clients = []
    for person in people:
        client = app.test_client()
        sign_in(client, person["user_id"])
        clients.append(client)
    papers = {slot: _pdf(f"Kertas {slot} (bench)") for slot in people[0]["slots"]}
    samples: dict[str, list[dict]] = {"baseline": [], "home": [], "submit": []}

    def baseline(_: int) -> object:
        return officer.get(BASELINE)

    def home(i: int) -> object:
        return clients[i % len(clients)].get(HOME)

    def submit(i: int) -> object:
        client, person = clients[i % len(clients)], people[i % len(people)]
        page = client.get(APPLY).get_data(as_text=True)
        token = _CSRF.search(page)
        if token is None:
            raise SystemExit(f"no form at {APPLY}")
        data = {**_form(person), "csrf_token": token.group(1)}
        for slot in person["slots"]:
            data[f"req_{slot}"] = (BytesIO(papers[slot]), f"kertas-{slot}.pdf", "application/pdf")
        counter.count = 0
        started = time.perf_counter()
        answer = client.post(APPLY, data=data, content_type="multipart/form-data")
        answer.elapsed_ms = (time.perf_counter() - started) * 1000
        if answer.status_code != 302 or not _DOSSIER.search(answer.headers.get("Location", "")):
            problems = _PROBLEMS.findall(answer.get_data(as_text=True))
            raise SystemExit(f"submit answered {answer.status_code}: {problems}")
        return answer

    pages = {"baseline": baseline, "home": home, "submit": submit}
    names = list(pages)
    for i in range(warmup + repeat):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            counter.count = 0
            started = time.perf_counter()
            response = pages[name](i)
            ms = getattr(response, "elapsed_ms", None) or (time.perf_counter() - started) * 1000
            if response.status_code not in (200, 302):
                raise SystemExit(f"{name} answered {response.status_code}")
            if i >= warmup:
                samples[name].append({"ms": ms, "sql": counter.count})
    return samples


# ---------------------------------------------------------------------------- at once, over HTTP

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


class Browser:
    """One applicant's browser: its own cookies, redirects not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, path: str, data: bytes | None = None, content_type: str | None = None) -> tuple[int, str, str]:
        request = urllib.request.Request(self.base + path, data=data)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            return error.code, error.headers.get("Location", ""), error.read().decode(errors="replace")

    def token(self, path: str) -> str:
        status, _, page = self.request(path)
        match = _CSRF.search(page)
        if status != 200 or match is None:
            raise SystemExit(f"no form at {path} ({status}): {page[-800:]}")
        return match.group(1)

    def post(self, path: str, form: dict) -> tuple[int, str, str]:
        return self.request(path, urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")


def _multipart(fields: dict, files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, content in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.pdf"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def at_once(app, database_url: str, people: list[dict], workers: int, workdir: Path) -> dict:  # noqa: ANN001
    """N applicants submit together to gunicorn; what came back and what the database holds."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Dossier

    env = {**os.environ, "DATABASE_URL": database_url, "LOKET_INSTANCE_PATH": str(workdir), "PYTHONUNBUFFERED": "1",
           # One address signs in N applicants: the per-address throttle would refuse most of them.
           "LOKET_PUBLIC_RATE_LIMIT": "100000 per minute", "LOKET_LOGIN_RATE_LIMIT": "100000 per minute"}
    env.pop("REDIS_URL", None)
    port = _free_port()
    log_path = workdir / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "run:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{base}{LOGIN}", timeout=5) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.3)
            with app.app_context():
                before = db.session.scalar(select(func.max(Dossier.id))) or 0
                db.session.rollback()
            browsers, tokens = [], []

            def sign_in_one(person: dict) -> tuple[Browser, str]:
                browser = Browser(base)
                status, location, page = browser.post(LOGIN, {"email": person["email"], "password": PASSWORD,
                                                              "csrf_token": browser.token(LOGIN)})
                if status != 302:
                    raise SystemExit(f"{person['email']} could not sign in ({status}): {page[-800:]}")
                return browser, browser.token(APPLY)

            with ThreadPoolExecutor(max_workers=16) as pool:
                for browser, token in pool.map(sign_in_one, people):
                    browsers.append(browser)
                    tokens.append(token)
            papers = {slot: _pdf(f"Kertas {slot} (bench)") for slot in people[0]["slots"]}
            barrier = threading.Barrier(len(people))
            answers: list[tuple[int, str, float]] = [(0, "", 0.0)] * len(people)

            def submit(k: int) -> None:
                person = people[k]
                body, content_type = _multipart({**_form(person), "csrf_token": tokens[k]},
                                                {f"req_{slot}": papers[slot] for slot in person["slots"]})
                barrier.wait()
                started = time.perf_counter()
                status, location, _ = browsers[k].request(APPLY, body, content_type)
                answers[k] = (status, location, (time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            threads = [threading.Thread(target=submit, args=(k,)) for k in range(len(people))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
    log_text = log_path.read_text(errors="replace")
    with app.app_context():
        numbers = db.session.scalars(select(Dossier.receipt_number).where(Dossier.id > before)).all()
    ms = [a[2] for a in answers]
    landed = [a for a in answers if a[0] == 302 and _DOSSIER.search(a[1])]
    return {
        "applicants": len(people), "workers": workers,
        "status_5xx": sum(1 for a in answers if a[0] >= 500),
        "statuses": {str(code): sum(1 for a in answers if a[0] == code) for code in sorted({a[0] for a in answers})},
        "submitted": len(landed), "dossiers_added": len(numbers), "distinct_numbers": len(set(numbers)),
        "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(_percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1), "wall_seconds": round(wall, 2),
        "log_clean": "Traceback" not in log_text and "WORKER TIMEOUT" not in log_text,
    }


def _parser() -> argparse.ArgumentParser:
    parser = demo_parser(__doc__)
    parser.add_argument("--concurrent", type=int, default=0, metavar="N",
                        help="also N applicants submitting at once to gunicorn (needs --database-url); default 0")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers for --concurrent; default 4")
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.concurrent and not args.database_url:
        raise SystemExit("--concurrent needs PostgreSQL: give --database-url")
    with tempfile.TemporaryDirectory(prefix="loket-portal-bench-") as scratch:
        workdir = Path(args.keep or scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("LOKET_SECRET_KEY", secrets.token_urlsafe(32))
        app, _, _ = demo_app(args.database_url, workdir, args.dossiers, args.seed, args.rebuild)
        people = applicants(app, max(20, args.concurrent))
        samples = measure(app, people[:20], args.repeat, args.warmup)

        def stats(name: str) -> dict:
            ms = [s["ms"] for s in samples[name]]
            return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(_percentile(ms, 0.95), 2),
                    "sql": int(statistics.median(s["sql"] for s in samples[name]))}

        base = {"url": BASELINE, **stats("baseline")}
        pages, misses = {}, []
        for name, url in (("home", HOME), ("submit", APPLY)):
            row = {"url": url, **stats(name)}
            row["ratio"] = round(row["p50_ms"] / base["p50_ms"], 3)
            pages[name] = row
            if row["p50_ms"] > TARGET_MS:
                misses.append(name)
            print(f"{name:8s} p50 {row['p50_ms']:8.2f} ms  p95 {row['p95_ms']:8.2f} ms {row['sql']:3d} SQL | "
                  f"ratio {row['ratio']:6.3f} to the grid's {base['p50_ms']:.2f} ms")
        concurrent = None
        if args.concurrent:
            concurrent = at_once(app, args.database_url, people[: args.concurrent], args.workers, workdir)
            print(f"at once  {json.dumps(concurrent)}")
            if (concurrent["status_5xx"] or concurrent["distinct_numbers"] != args.concurrent
                    or concurrent["submitted"] != args.concurrent or not concurrent["log_clean"]):
                misses.append("concurrent")
        print(json.dumps({
            "dossiers": args.dossiers, "database": "postgresql" if args.database_url else "sqlite",
            "repeat": args.repeat, "baseline": base, "pages": pages, "concurrent": concurrent,
            "target_ms": TARGET_MS, "misses": misses,
        }))


if __name__ == "__main__":
    main()
