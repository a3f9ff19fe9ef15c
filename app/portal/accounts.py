"""The applicant's account (SOP 76 step 2): registration, activation by a signed and expiring
e-mail link, the link sent again, a forgotten password reset, and the applicant record the account
sees (linked by NIK and e-mail). Plain Python over a SQLAlchemy session: the view commits.

It is Flask-AppBuilder's self-registration: a registration waits in ab_register_user
(ApplicantRegistration, with NIK and phone) until its link is opened, then becomes a FAB user with
role Pemohon whose user name is the e-mail. Every mail goes through the outbox, in the transaction
of what it tells; at most MAIL_LIMIT link mails per address per hour, counted from the outbox, so
the limit holds whichever process sent them.

Messages for the applicant are Indonesian (the portal speaks to the public in Indonesian).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.audit import Actor, actor_name, changes_by
from app.models import Applicant, OutboxMessage
from app.outbox import Channel, enqueue
from app.security.accounts import password_problem
from app.security.applicants import ApplicantRegistration
from app.security.officers import Officer
from app.security.roles import PEMOHON
from app.sop.calendar import as_utc
from app.validators import InvalidValue, normalize_email, normalize_nik
from app.whatsapp import normalize_phone

ACTIVATION_SALT = "loket-aktivasi"
RESET_SALT = "loket-sandi-baru"
DEFAULT_ACTIVATION_MAX_AGE = 48 * 3600  # seconds; config PORTAL_ACTIVATION_MAX_AGE
RESET_MAX_AGE = 3600
MAIL_LIMIT = 3  # link mails (activation, reset) per address ...
MAIL_WINDOW = dt.timedelta(hours=1)  # ... in this long
# Outbox dedup keys start with these: the limit counts the first two.
ACTIVATION_KEY, RESET_KEY, ACTIVE_KEY = "aktivasi", "sandi", "akun-aktif"
NAME_LENGTH = 64  # FAB's first_name
EMAIL_LENGTH = 128  # FAB's username (the e-mail)
TOKEN_LENGTH = 300  # longer is no token of ours
FIELDS = ("full_name", "nik", "email", "phone", "password", "confirm_password")


class AccountError(Exception):
    """Something the applicant can put right; `resend` offers the link to send the activation again."""

    def __init__(self, message: str, field: str | None = None, resend: bool = False) -> None:
        super().__init__(message)
        self.message, self.field, self.resend = message, field, resend


class MailLimitReached(AccountError):
    def __init__(self) -> None:
        super().__init__(f"Sudah {MAIL_LIMIT} e-mail dikirim ke alamat ini dalam satu jam terakhir. "
                         "Demi keamanan tidak ada e-mail lagi yang dikirim sekarang; coba lagi satu jam lagi.")


@dataclass(frozen=True)
class Registration:
    full_name: str
    nik: str
    email: str  # lower-cased: the user name
    phone: str  # +628...
    password: str


@dataclass(frozen=True)
class Links:
    """Absolute URLs for mail, made by the view: token -> link."""
    activation: Callable[[str], str]
    reset: Callable[[str], str]
    login: str
    activation_hours: int = DEFAULT_ACTIVATION_MAX_AGE // 3600


# ---------------------------------------------------------------------------- form checks

def clean_email(value: str) -> str:
    """The e-mail as the account's user name (lower-cased); InvalidValue otherwise."""
    email = normalize_email(value or "").lower()
    if len(email) > EMAIL_LENGTH:
        raise InvalidValue(f"Alamat e-mail paling panjang {EMAIL_LENGTH} karakter.")
    return email


def split_name(full_name: str) -> tuple[str, str]:
    """FAB's first and last name: the whole name, and its last word ("-" for a one-word name,
    common in Indonesia; FAB wants a last name)."""
    words = full_name.split()
    return full_name, words[-1] if len(words) > 1 else "-"


def _names(full_name: str, email: str) -> list[str]:
    return [full_name, *full_name.split(), email, email.partition("@")[0]]


def clean_registration(form: Mapping[str, str], min_length: int) -> tuple[Registration | None, dict[str, str]]:
    """The registration form's values checked one by one: (Registration, {}) or (None, field -> message)."""
    errors: dict[str, str] = {}
    full_name = " ".join((form.get("full_name") or "").split())
    if not full_name:
        errors["full_name"] = "Isi nama lengkap sesuai KTP."
    elif len(full_name) > NAME_LENGTH:
        errors["full_name"] = f"Nama lengkap paling panjang {NAME_LENGTH} karakter."
    values: dict[str, str] = {}
    for field, check in (("nik", normalize_nik), ("email", clean_email)):
        try:
            values[field] = check(form.get(field) or "")
        except InvalidValue as exc:
            errors[field] = str(exc.message)
    try:
        values["phone"] = normalize_phone(form.get("phone") or "")
        if not values["phone"].startswith("+628"):
            errors["phone"] = "Gunakan nomor ponsel (08...), agar pemberitahuan dapat dikirim lewat WhatsApp."
    except ValueError as exc:
        errors["phone"] = str(exc)
    password = form.get("password") or ""
    problem = password_problem(password, _names(full_name, values.get("email", "")), min_length)
    if problem:
        errors["password"] = problem
    elif password != (form.get("confirm_password") or ""):
        errors["confirm_password"] = "Konfirmasi kata sandi tidak sama dengan kata sandi."
    if errors:
        return None, errors
    return Registration(full_name, values["nik"], values["email"], values["phone"], password), {}


def new_password_problem(user: Officer, password: str, confirm: str, min_length: int) -> str | None:
    problem = password_problem(password, [user.username, user.first_name, user.last_name,
                                          *_names(user.first_name, user.email)], min_length)
    if problem is None and password != confirm:
        return "Konfirmasi kata sandi tidak sama dengan kata sandi."
    return problem


# ---------------------------------------------------------------------------- who is who

def _account(session: Session, email: str) -> Officer | None:
    return session.scalars(select(Officer).where(
        or_(func.lower(Officer.username) == email, func.lower(Officer.email) == email)).limit(1)).first()


def pending_registration(session: Session, email: str) -> ApplicantRegistration | None:
    return session.scalars(select(ApplicantRegistration).where(or_(
        func.lower(ApplicantRegistration.username) == email, func.lower(ApplicantRegistration.email) == email,
    )).order_by(ApplicantRegistration.id).limit(1)).first()


def is_applicant(user: object) -> bool:
    return any(role.name == PEMOHON for role in getattr(user, "roles", ()))


SEE_FRONT_OFFICE = ("NIK ini sudah tercatat di kantor dengan alamat e-mail lain. Silakan datang ke Front Office "
                    "membawa KTP untuk membetulkan alamat e-mail pada data Anda, lalu daftar (atau buka tautan "
                    "aktivasi) lagi.")
NIK_TAKEN = ("NIK ini sudah terhubung ke akun lain. Jika itu akun Anda, masuk atau atur ulang kata sandinya; "
             "jika bukan, silakan hubungi Front Office.")


def _nik_problem(session: Session, nik: str, email: str) -> str | None:
    """Why an account with this e-mail may not take this NIK: the office's record of the person
    belongs to another account, or carries another e-mail (only the Front Office may change it)."""
    applicant = session.scalar(select(Applicant).where(Applicant.nik == nik))
    if applicant is None:
        return None
    if applicant.account_id is not None:
        return NIK_TAKEN
    if (applicant.email or "").strip().lower() != email:
        return SEE_FRONT_OFFICE
    return None


# ---------------------------------------------------------------------------- the mail limit

def mails_sent(session: Session, email: str, now: dt.datetime) -> int:
    """Link mails queued for this address in the last MAIL_WINDOW (any process, sent or not)."""
    return session.scalar(select(func.count(OutboxMessage.id)).where(
        func.lower(OutboxMessage.recipient) == email,
        OutboxMessage.created_at > as_utc(now) - MAIL_WINDOW,
        or_(OutboxMessage.dedup_key.like(f"{ACTIVATION_KEY}:%"), OutboxMessage.dedup_key.like(f"{RESET_KEY}:%")),
    )) or 0


def _check_limit(session: Session, email: str, now: dt.datetime) -> None:
    if mails_sent(session, email, now) >= MAIL_LIMIT:
        raise MailLimitReached


# ---------------------------------------------------------------------------- tokens

def _serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt)


def activation_token(secret: str, registration: ApplicantRegistration) -> str:
    # The e-mail rides along so a link opened again after activation can say "already active"; the
    # nonce makes each link sent new (itsdangerous' clock counts whole seconds).
    return _serializer(secret, ACTIVATION_SALT).dumps(
        [registration.registration_hash, registration.email.lower(), secrets.token_hex(4)])


class LinkExpired(Exception):
    def __init__(self, email: str | None) -> None:
        super().__init__(email)
        self.email = email


def read_activation(secret: str, token: str, max_age: int) -> tuple[str, str] | None:
    """(registration hash, e-mail) of a genuine link within max_age seconds; None for a forged or
    damaged one; LinkExpired (with the e-mail, to offer a new link) for an old one."""
    if len(token) > TOKEN_LENGTH:
        return None
    serializer = _serializer(secret, ACTIVATION_SALT)
    try:
        value = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        value = _payload(serializer, exc.payload)
        raise LinkExpired(value[1] if value else None) from None
    except (BadSignature, ValueError, TypeError):
        return None
    return _pair(value)


def _payload(serializer: URLSafeTimedSerializer, raw: object) -> tuple[str, str] | None:
    try:
        return _pair(serializer.load_payload(raw))
    except (BadSignature, ValueError, TypeError):
        return None


def _pair(value: object) -> tuple[str, str] | None:
    if isinstance(value, list) and len(value) == 3 and all(isinstance(part, str) for part in value):
        return value[0], value[1]
    return None


def _fingerprint(password_hash: str | None) -> str:
    # A link made for the current password dies when the password changes (it is used, or reset again).
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:20]


def reset_token(secret: str, user: Officer) -> str:
    return _serializer(secret, RESET_SALT).dumps([user.id, _fingerprint(user.password)])


def user_of_reset(session: Session, secret: str, token: str, max_age: int = RESET_MAX_AGE) -> Officer | None:
    """The applicant account a reset link is for, while it is younger than max_age and the password
    is still the one it was made for; None otherwise (expired, forged, used)."""
    if len(token) > TOKEN_LENGTH:
        return None
    try:
        value = _serializer(secret, RESET_SALT).loads(token, max_age=max_age)
    except (BadSignature, ValueError, TypeError):  # SignatureExpired is a BadSignature
        return None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
        return None
    user = session.get(Officer, value[0])
    if user is None or not user.active or not is_applicant(user) or _fingerprint(user.password) != value[1]:
        return None
    return user


# ---------------------------------------------------------------------------- mails

def _queue(session: Session, dedup_key: str, email: str, subject: str, body: str, now: dt.datetime) -> None:
    enqueue(session, recipient=email, subject=subject, body_text=body, now=now, channel=Channel.EMAIL,
            dedup_key=dedup_key)


def _queue_activation(session: Session, registration: ApplicantRegistration, secret: str, links: Links,
                      office: str, now: dt.datetime) -> None:
    link = links.activation(activation_token(secret, registration))
    enqueue(session, recipient=registration.email, channel=Channel.EMAIL, now=now,
            dedup_key=f"{ACTIVATION_KEY}:{registration.id}:{secrets.token_hex(6)}",
            subject=f"Aktivasi akun pemohon - {office}",
            body_text=(f"Yth. {registration.first_name},\n\n"
                       f"Terima kasih telah mendaftar di portal pemohon {office}.\n"
                       f"Buka tautan berikut untuk mengaktifkan akun Anda:\n\n{link}\n\n"
                       f"Tautan ini berlaku {links.activation_hours} jam dan hanya untuk Anda; "
                       "jangan teruskan kepada orang lain.\n"
                       "Jika Anda tidak merasa mendaftar, abaikan e-mail ini.\n"))


# ---------------------------------------------------------------------------- registration

def register(session: Session, registration: Registration, hashed_password: str, *, secret: str, links: Links,
             office: str, now: dt.datetime) -> ApplicantRegistration:
    """A pending registration and its activation mail, in the caller's transaction; AccountError
    (nothing written) when the e-mail or NIK is taken or the mail limit reached."""
    email = registration.email
    if _account(session, email) is not None:
        raise AccountError("Alamat e-mail ini sudah punya akun. Silakan masuk, atau gunakan \"Lupa kata sandi\".",
                           "email")
    if pending_registration(session, email) is not None:
        raise AccountError("Alamat e-mail ini sudah didaftarkan dan menunggu aktivasi. Buka tautan di e-mail "
                           "aktivasi, atau minta tautan baru.", "email", resend=True)
    problem = _nik_problem(session, registration.nik, email)
    if problem:
        raise AccountError(problem, "nik")
    _check_limit(session, email, now)
    first_name, last_name = split_name(registration.full_name)
    row = ApplicantRegistration(
        username=email, email=email, first_name=first_name, last_name=last_name, password=hashed_password,
        registration_hash=str(uuid.uuid4()), nik=registration.nik, phone=registration.phone,
    )
    session.add(row)
    session.flush()
    _queue_activation(session, row, secret, links, office, now)
    return row


def resend_activation(session: Session, email: str, *, secret: str, links: Links, office: str,
                      now: dt.datetime) -> bool:
    """A new activation link for a pending registration (True), or nothing for any other address
    (False: the page answers the same). MailLimitReached past the limit."""
    registration = pending_registration(session, email)
    if registration is None:
        return False
    _check_limit(session, email, now)
    _queue_activation(session, registration, secret, links, office, now)
    return True


def request_reset(session: Session, email: str, *, secret: str, links: Links, office: str,
                  now: dt.datetime) -> bool:
    """A reset link for an active applicant account (True); nothing for any other address (staff
    reset theirs through Admin). MailLimitReached past the limit."""
    user = _account(session, email)
    if user is None or not user.active or not is_applicant(user):
        return False
    _check_limit(session, email, now)
    link = links.reset(reset_token(secret, user))
    _queue(session, f"{RESET_KEY}:{user.id}:{secrets.token_hex(6)}", user.email, f"Atur ulang kata sandi - {office}",
           f"Yth. {user.first_name},\n\nKami menerima permintaan untuk mengatur ulang kata sandi akun pemohon Anda "
           f"({user.username}).\nBuka tautan berikut dalam 1 jam untuk membuat kata sandi baru:\n\n{link}\n\n"
           "Tautan hanya dapat dipakai sekali. Jika Anda tidak memintanya, abaikan e-mail ini; kata sandi Anda "
           "tetap.\n", now)
    return True


# ---------------------------------------------------------------------------- activation

class Activation(Enum):
    ACTIVATED = "activated"
    ALREADY_ACTIVE = "already_active"
    UNKNOWN = "unknown"  # used or never made: a new link is the way on
    REFUSED = "refused"  # the NIK went to another record meanwhile: see the Front Office


@dataclass(frozen=True)
class ActivationResult:
    outcome: Activation
    user: Officer | None = None
    message: str | None = None


def activate(session: Session, registration_hash: str, email: str, add_user: Callable[..., object], *,
             links: Links, office: str, now: dt.datetime) -> ActivationResult:
    """The registration becomes the account (through `add_user`, FAB's sm.add_user with role
    Pemohon and commit=False), its applicant record is linked or made, the registration is gone
    and the "account active" mail queued: all in the caller's transaction, committed by it."""
    registration = session.scalar(select(ApplicantRegistration).where(
        ApplicantRegistration.registration_hash == registration_hash))
    if registration is None:
        active = _account(session, email)
        return ActivationResult(Activation.ALREADY_ACTIVE if active is not None and is_applicant(active)
                                else Activation.UNKNOWN)
    if _account(session, registration.email.lower()) is not None:
        return ActivationResult(Activation.ALREADY_ACTIVE)
    problem = _nik_problem(session, registration.nik or "", registration.email.lower())
    if problem:
        return ActivationResult(Activation.REFUSED, message=problem)
    user = add_user(username=registration.username, first_name=registration.first_name,
                    last_name=registration.last_name, email=registration.email, hashed_password=registration.password)
    if not user:  # FAB logged and rolled back (the user name was taken at this very moment)
        return ActivationResult(Activation.ALREADY_ACTIVE)
    actor = Actor(user.id, actor_name(user.username, registration.first_name), origin="web")
    with changes_by(session, actor=actor, reason="Akun pemohon diaktifkan (e-mail terverifikasi)"):
        applicant = session.scalar(select(Applicant).where(Applicant.nik == registration.nik))
        if applicant is None:
            session.add(Applicant(full_name=registration.first_name, nik=registration.nik, email=registration.email,
                                  phone=registration.phone, account_id=user.id))
        else:
            applicant.account_id = user.id
            applicant.phone = applicant.phone or registration.phone
        session.delete(registration)
        session.flush()
    _queue(session, f"{ACTIVE_KEY}:{user.id}", user.email, f"Akun pemohon aktif - {office}",
           f"Yth. {user.first_name},\n\nAkun pemohon Anda di {office} sudah aktif.\n"
           f"Nama pengguna: {user.username}\nKata sandi: yang Anda pilih saat mendaftar.\n\n"
           f"Masuk di {links.login}\n", now)
    return ActivationResult(Activation.ACTIVATED, user=user)


# ---------------------------------------------------------------------------- sign-in

def link_on_sign_in(session: Session, user: Officer) -> Applicant | None:
    """The account's applicant record; an account without one (its activation found none to link
    or make, or the link was undone) gets the one unlinked record with its verified e-mail that the
    Front Office has meanwhile corrected. In the caller's transaction."""
    applicant = session.scalar(select(Applicant).where(Applicant.account_id == user.id))
    if applicant is not None:
        return applicant
    candidates = session.scalars(select(Applicant).where(
        func.lower(Applicant.email) == (user.email or "").lower(), Applicant.account_id.is_(None)).limit(2)).all()
    if len(candidates) != 1:  # none, or two people sharing an address: the Front Office decides
        return None
    actor = Actor(user.id, actor_name(user.username, user.first_name), origin="web")
    with changes_by(session, actor=actor, reason="Akun pemohon dihubungkan saat masuk (NIK dan e-mail)"):
        candidates[0].account_id = user.id
        session.flush()
    return candidates[0]
