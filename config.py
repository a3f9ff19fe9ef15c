"""Loket configuration. Secrets and endpoints come from the environment, never literals."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class Config:
    # None means: fall back to instance/loket.db (resolved in create_app).
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # None means: read or create instance/secret_key (see app.secrets).
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY") or None

    APP_NAME = "Loket"
    APP_THEME = ""
    FAB_INDEX_VIEW = "app.views.home.HomeView"
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.LoketSecurityManager"
    # Alembic owns the schema; permissions are synced by `loket init`, not on import.
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = True
    FAB_API_MAX_PAGE_SIZE = 100

    # The most rows one grid page shows, whatever psize_<View> asks (FAB offers 25 to 100).
    GRID_MAX_PAGE_SIZE = 100

    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    # Applicants register themselves (SOP 76 step 2) on the portal, through FAB's registration
    # (ab_register_user, activation by e-mail link): app.security.applicants, app.portal.
    AUTH_USER_REGISTRATION = True
    AUTH_USER_REGISTRATION_ROLE = "Pemohon"
    # Seconds an applicant's e-mail activation link stays valid.
    PORTAL_ACTIVATION_MAX_AGE = int(os.environ.get("LOKET_PORTAL_ACTIVATION_HOURS", "48")) * 3600
    AUTH_RATE_LIMITED = True
    # Per client address (behind a proxy, the real one: LOKET_TRUSTED_PROXIES); an office NAT
    # shares one address, so the guard against guessing is per user name (LOGIN_* below).
    AUTH_RATE_LIMIT = os.environ.get("LOKET_LOGIN_RATE_LIMIT", "30 per minute")
    # Failed sign-ins per user name: the first ones are free, then each waits twice as long.
    LOGIN_FREE_ATTEMPTS = int(os.environ.get("LOKET_LOGIN_FREE_ATTEMPTS", "5"))
    LOGIN_BASE_DELAY_SECONDS = int(os.environ.get("LOKET_LOGIN_BASE_DELAY_SECONDS", "30"))
    LOGIN_MAX_DELAY_SECONDS = int(os.environ.get("LOKET_LOGIN_MAX_DELAY_SECONDS", "900"))
    # Every form that sets a password (app.security.accounts): this long at least, not the
    # account's own names, not guessable (zxcvbn).
    PASSWORD_MIN_LENGTH = int(os.environ.get("LOKET_PASSWORD_MIN_LENGTH", "10"))
    # Reverse proxies in front of the app (nginx: 1): their X-Forwarded-* headers are believed.
    TRUSTED_PROXIES = int(os.environ.get("LOKET_TRUSTED_PROXIES", "0"))
    RATELIMIT_ENABLED = True
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # Without this FAB registers scrypt hashes anyway; keep the default explicit.
    FAB_PASSWORD_HASH_METHOD = "scrypt"

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # staff keep grids open all day
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_flag("LOKET_HTTPS")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = _env_flag("LOKET_HTTPS")
    # Served over HTTPS (LOKET_HTTPS=1): plain http is redirected and HSTS sent (app.security.headers).
    SERVED_OVER_HTTPS = _env_flag("LOKET_HTTPS")

    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    LANGUAGES = {
        "id": {"flag": "id", "name": "Bahasa Indonesia"},
        "en": {"flag": "gb", "name": "English"},
    }

    # The office this instance serves (Kemendagri code of Kabupaten Landak).
    OFFICE_TIMEZONE = "Asia/Jakarta"
    # Office hours (HH:MM, office time zone): the SLA clock runs only inside them on working days.
    OFFICE_OPENS = "07:30"
    OFFICE_CLOSES = "16:00"
    OFFICE_REGENCY_CODE = "61.08"
    OFFICE_NAME = "DPMPTSPTK Kabupaten Landak"
    # The counter's hours as the public status page tells applicants; keep it in step with the two above,
    # which the SLA clock counts by.
    OFFICE_HOURS = os.environ.get("LOKET_OFFICE_HOURS", "Senin–Jumat 07.30–16.00 WIB")
    SOP_DIR = str(BASE_DIR / "seed" / "sop")

    # Report jobs (app.jobs): Huey on SQLite in the instance folder, or on Redis with REDIS_URL.
    JOBS_IMMEDIATE = False  # True runs each job inside the request that asks for it (tests only)
    # A running job whose worker has not reported for this long is taken to be dead.
    JOB_STALE_SECONDS = 180
    JOB_MAX_ATTEMPTS = 2  # a job whose worker died runs once more, then fails
    REPORT_RETENTION_DAYS = int(os.environ.get("LOKET_REPORT_DAYS", "14"))
    PRINT_WORKERS = int(os.environ.get("LOKET_PRINT_WORKERS", "0"))  # 0: one process per CPU
    # A move of more dossiers than this runs as a report job (committed in small steps, with
    # progress); up to it, in the request.
    BULK_MOVE_INLINE_MAX = int(os.environ.get("LOKET_BULK_MOVE_INLINE_MAX", "200"))
    # A grid export up to this many rows comes back at once; a bigger one is a report job.
    EXPORT_INLINE_MAX_ROWS = int(os.environ.get("LOKET_EXPORT_INLINE_MAX_ROWS", "5000"))

    # Spreadsheet imports (.xlsx): the largest file accepted.
    IMPORT_MAX_BYTES = int(os.environ.get("LOKET_IMPORT_MAX_MB", "20")) * 1024 * 1024

    # Uploaded documents: PDF, JPEG or PNG, checked by content; stored under instance/documents.
    DOCUMENT_MAX_BYTES = int(os.environ.get("LOKET_MAX_UPLOAD_MB", "10")) * 1024 * 1024
    # An online application (the portal): all its papers in one request.
    APPLICATION_MAX_BYTES = int(os.environ.get("LOKET_MAX_APPLICATION_MB", "40")) * 1024 * 1024
    # Any request body: the largest of these plus room for the rest of the form.
    MAX_CONTENT_LENGTH = max(DOCUMENT_MAX_BYTES, IMPORT_MAX_BYTES, APPLICATION_MAX_BYTES) + 64 * 1024

    # Papers (xhtml2pdf). F4 (215 x 330 mm) is what most Indonesian government offices print on.
    PAPER_SIZE = os.environ.get("LOKET_PAPER_SIZE", "F4")
    # Printed in QR codes; without it, the address the request came in on.
    PUBLIC_BASE_URL = os.environ.get("LOKET_PUBLIC_URL") or None
    # Public status and verification pages, and the portal's account pages, need no login:
    # throttle guessing per client address.
    PUBLIC_RATE_LIMIT = os.environ.get("LOKET_PUBLIC_RATE_LIMIT", "30 per minute")
    # Outgoing mail (the daily digest) through the outbox (app.outbox): smtp://user:pass@host:port,
    # ?starttls=1 for STARTTLS, smtps://host:465 for TLS from the start (app.mail). Unset: no mail
    # leaves, messages wait in the outbox.
    SMTP_URL: str | None = os.environ.get("LOKET_SMTP_URL") or None
    MAIL_FROM = os.environ.get("LOKET_MAIL_FROM", "Loket <loket@localhost>")
    # WhatsApp through an HTTP gateway (app.whatsapp): the URL each message is POSTed to as JSON,
    # http(s) only. Unset: WhatsApp messages wait in the outbox.
    WA_GATEWAY_URL: str | None = os.environ.get("LOKET_WA_GATEWAY_URL") or None
    # Sent as "Authorization: Bearer <token>" when set.
    WA_GATEWAY_TOKEN: str | None = os.environ.get("LOKET_WA_GATEWAY_TOKEN") or None

    # Electronic signatures of permits (TTE, app.tte). The key that seals signers' certificates at
    # rest (a Fernet key; unset: derived from SECRET_KEY); the CAs whose certificates sign (PEM
    # files, e.g. BSrE's roots) and their CRLs (DER or PEM files), os.pathsep-separated; whether
    # to fetch CRL/OCSP from the certificate's own addresses (off: an intranet without internet);
    # a time-stamp authority for PAdES B-LT (unset: B-B).
    TTE_KEY: str | None = os.environ.get("LOKET_TTE_KEY") or None
    TTE_TRUST_ROOTS = [p for p in os.environ.get("LOKET_TTE_TRUST_ROOTS", "").split(os.pathsep) if p]
    TTE_CRLS = [p for p in os.environ.get("LOKET_TTE_CRLS", "").split(os.pathsep) if p]
    TTE_FETCH_REVOCATION = os.environ.get("LOKET_TTE_FETCH_REVOCATION", "0").lower() in ("1", "true", "ya", "yes")
    TTE_TIMESTAMP_URL: str | None = os.environ.get("LOKET_TTE_TIMESTAMP_URL") or None
    LETTERHEAD_GOVERNMENT = "PEMERINTAH KABUPATEN LANDAK"
    LETTERHEAD_AGENCY = "DINAS PENANAMAN MODAL, PELAYANAN TERPADU SATU PINTU DAN TENAGA KERJA"
    LETTERHEAD_ADDRESS = "Jalan Pangeran Cinata, Ngabang, Kabupaten Landak, Kalimantan Barat 79357"
    LETTERHEAD_CONTACT = "Laman: dpmptsptk.landakkab.go.id"
    LETTERHEAD_LOGO = "logo.png"  # a file name in reports/assets
    LETTERHEAD_CITY = "Ngabang"
    # Who signs permits; set these to the office's own Kepala Dinas.
    SIGNATORY_POSITION = "KEPALA DINAS PENANAMAN MODAL, PELAYANAN TERPADU SATU PINTU DAN TENAGA KERJA"
    SIGNATORY_NAME = os.environ.get("LOKET_SIGNATORY_NAME", "(nama Kepala Dinas)")
    SIGNATORY_NIP = os.environ.get("LOKET_SIGNATORY_NIP", "(NIP)")
    SIGNATORY_RANK = os.environ.get("LOKET_SIGNATORY_RANK", "(pangkat/golongan)")


class TestConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("LOKET_TEST_DATABASE_URL") or "sqlite://"
    SECRET_KEY = secrets.token_urlsafe(32)  # fresh per test process, never a literal
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    SERVER_NAME = "localhost"
    JOBS_IMMEDIATE = True
    PRINT_WORKERS = 2
    SMTP_URL = None  # a developer's LOKET_SMTP_URL never reaches the tests (tests/smtp.py sets its own)
    WA_GATEWAY_URL = None  # likewise LOKET_WA_GATEWAY_URL (tests/wa_gateway.py sets its own)
    WA_GATEWAY_TOKEN = None
    # Nor a developer's LOKET_TTE_* (tests/pki.py builds the PKI the signing tests trust).
    TTE_KEY = None
    TTE_TRUST_ROOTS: list[str] = []
    TTE_CRLS: list[str] = []
    TTE_FETCH_REVOCATION = False
    TTE_TIMESTAMP_URL = None
    # Cheap hashes keep fixture logins fast; production keeps scrypt.
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
