"""The applicant's account on the portal: register, activate by e-mail link, sign in and out,
resend the link, reset a forgotten password (SOP 76 steps 2-3). Thin: app.portal.accounts decides.

FAB's self-registration underneath (ab_register_user, AUTH_USER_REGISTRATION_ROLE): FAB's own
/register/ pages lead here (PortalRegisterUserView), so the portal's rules (NIK, phone, the
password policy, the mail limit) are the only way in.
"""
from __future__ import annotations

import datetime as dt
from functools import partial
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.registerviews import RegisterUserDBView
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.portal.accounts import (
    DEFAULT_ACTIVATION_MAX_AGE,
    FIELDS,
    AccountError,
    Activation,
    ActivationResult,
    LinkExpired,
    Links,
    activate,
    clean_email,
    clean_registration,
    is_applicant,
    link_on_sign_in,
    new_password_problem,
    pending_registration,
    read_activation,
    register,
    request_reset,
    resend_activation,
    user_of_reset,
)
from app.security.accounts import SESSION_KEY
from app.security.roles import PEMOHON
from app.validators import InvalidValue
from app.views.portal_base import PORTAL_PREFIX

HOME = "PortalView.home"
MESSAGE = "loket/portal/account_message.html"
EMAIL_FORM = "loket/portal/account_email.html"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _activation_max_age() -> int:
    return int(current_app.config.get("PORTAL_ACTIVATION_MAX_AGE", DEFAULT_ACTIVATION_MAX_AGE))


def _links() -> Links:
    """Links in mail: the office's public address, else the one this request came in on."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.url_root).rstrip("/")
    return Links(
        activation=lambda token: base + url_for("PortalAccountView.activate", token=token),
        reset=lambda token: base + url_for("PortalAccountView.reset", token=token),
        login=base + url_for("PortalAccountView.login"),
        activation_hours=max(1, _activation_max_age() // 3600),
    )


def _office() -> str:
    return current_app.config.get("OFFICE_NAME") or "Loket"


def safe_next(value: str | None) -> str | None:
    """A path on this site to go on to after signing in; anything else (another host, //host,
    a scheme, a backslash or control character) is dropped."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return None
    parts = urlsplit(value)
    return None if parts.scheme or parts.netloc else value


class PortalAccountView(BaseView):
    route_base = PORTAL_PREFIX
    default_view = "login"

    def _message(self, title: str, text: str, status: int = 200, kind: str = "info",  # noqa: PLR0913
                 actions: tuple[tuple[str, str], ...] = ()):  # noqa: ANN202
        return self.render_template(MESSAGE, title=title, text=text, kind=kind, actions=actions), status

    # ------------------------------------------------------------------------ registration

    @expose("/daftar", methods=["GET", "POST"])
    @no_cache
    def register(self):  # noqa: ANN201
        if current_user.is_authenticated and is_applicant(current_user):
            return redirect(url_for(HOME))
        errors: dict[str, str] = {}
        offer_resend = False
        if request.method == "POST":
            candidate, errors = clean_registration(request.form, current_app.config["PASSWORD_MIN_LENGTH"])
            if candidate is not None:
                config = current_app.config
                hashed = generate_password_hash(candidate.password, method=config.get("FAB_PASSWORD_HASH_METHOD",
                                                "scrypt"), salt_length=config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16))
                try:
                    register(db.session, candidate, hashed, secret=_secret(), links=_links(), office=_office(),
                             now=_now())
                    db.session.commit()
                except AccountError as exc:
                    db.session.rollback()
                    errors[exc.field or "form"] = exc.message
                    offer_resend = exc.resend
                except IntegrityError:  # the same e-mail registered at this very moment
                    db.session.rollback()
                    errors["email"] = _("This e-mail address has just been registered. Check your inbox for the "
                                        "activation link, or ask for a new one.")
                    offer_resend = True
                else:
                    return self._message(_("Check your e-mail"), _(
                        "We have sent an activation link to %(email)s. Open it within %(hours)s hours to activate "
                        "your account. No e-mail? Check the spam folder, or ask for a new link.",
                        email=candidate.email, hours=_links().activation_hours), kind="success",
                        actions=((_("Send the link again"), url_for(".resend", email=candidate.email)),))
        values = {field: (request.form.get(field) or "").strip() for field in FIELDS if "password" not in field}
        return self.render_template("loket/portal/account_register.html", title=_("Create an applicant account"),
                                    errors=errors, values=values, offer_resend=offer_resend), 200 if not errors else 400

    @expose("/aktivasi/<token>")
    @no_cache
    def activate(self, token: str):  # noqa: ANN201
        resend = (_("Send a new link"), url_for(".resend"))
        try:
            found = read_activation(_secret(), token, _activation_max_age())
        except LinkExpired as exc:
            return self._message(_("Activation link expired"), _(
                "This activation link is too old. Ask for a new one: it is sent to the e-mail address you "
                "registered with."), 410, "warning", ((resend[0], url_for(".resend", email=exc.email or "")),))
        if found is None:
            return self._message(_("Activation link not valid"), _(
                "This activation link is not valid. Open the link from the e-mail exactly as it was sent, "
                "or ask for a new one."), 404, "danger", (resend,))
        result = self._activate(*found)
        sign_in = (_("Sign in"), url_for(".login", email=found[1]))
        if result.outcome == Activation.ACTIVATED:
            return self._message(_("Your account is active"), _(
                "Welcome, %(name)s. Your user name is %(email)s. Sign in to apply for a permit and follow your "
                "applications.", name=result.user.first_name, email=result.user.username), kind="success",
                actions=(sign_in,))
        if result.outcome == Activation.ALREADY_ACTIVE:
            return self._message(_("Account already active"), _(
                "This account is already active. Sign in with your e-mail address and password."),
                actions=(sign_in,))
        if result.outcome == Activation.REFUSED:
            return self._message(_("Account not activated"), result.message, 409, "warning")
        return self._message(_("Activation link not valid"), _(
            "This activation link has already been used or replaced by a newer one. Ask for a new link if your "
            "account is not active yet."), 404, "warning", (resend, sign_in))

    def _activate(self, registration_hash: str, email: str) -> ActivationResult:
        sm = self.appbuilder.sm
        add_user = partial(sm.add_user, role=sm.find_role(PEMOHON), commit=False)
        for _try in range(2):  # once more if the NIK or the user name was taken while we wrote
            result = activate(db.session, registration_hash, email, add_user, links=_links(), office=_office(),
                              now=_now())
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                continue
            return result
        return ActivationResult(Activation.ALREADY_ACTIVE)

    @expose("/kirim-ulang", methods=["GET", "POST"])
    @no_cache
    def resend(self):  # noqa: ANN201
        return self._email_form(
            title=_("Send the activation link again"),
            intro=_("Enter the e-mail address you registered with. We send a new activation link; older links "
                    "stop working once the account is active."),
            action=resend_activation,
            done=_("If this address has a registration waiting for activation, a new link is on its way. Check "
                   "your inbox and the spam folder."),
        )

    # ------------------------------------------------------------------------ sign in and out

    @expose("/masuk", methods=["GET", "POST"])
    @no_cache
    def login(self):  # noqa: ANN201
        next_url = safe_next(request.args.get("next"))
        if current_user.is_authenticated and is_applicant(current_user):
            return redirect(next_url or url_for(HOME))
        email = (request.form.get("email") if request.method == "POST" else request.args.get("email")) or ""
        error, offer_resend, staff = None, False, False
        if request.method == "POST":
            sm = self.appbuilder.sm
            email = email.strip()
            password = request.form.get("password") or ""
            # FAB's check: the growing wait per user name, the sign-in counts, on_user_login (the
            # session generation); then Flask-Login, as FAB's AuthDBView.login does.
            user = sm.auth_user_db(email.lower(), password) if email and password else None
            if user is not None and not is_applicant(user):
                session.pop(SESSION_KEY, None)
                staff = True
            elif user is not None:
                login_user(user, remember=False)
                link_on_sign_in(db.session, user)
                db.session.commit()
                return redirect(next_url or url_for(HOME))
            elif email and pending_registration(db.session, email.lower()) is not None:
                error, offer_resend = _("This account is not active yet: open the link in the activation e-mail "
                                        "first, or ask for a new one."), True
            else:
                error = _("Wrong e-mail address or password.")
        return self.render_template(
            "loket/portal/account_login.html", title=_("Sign in"), email=email, error=error, staff=staff,
            offer_resend=offer_resend, staff_login=self.appbuilder.get_url_for_login,
            next_url=next_url), 200 if error is None and not staff else 400

    @expose("/keluar", methods=["POST"])
    def logout(self):  # noqa: ANN201
        if current_user.is_authenticated:
            self.appbuilder.sm.on_user_logout(current_user)
            logout_user()
            flash(_("You have signed out."), "info")
        return redirect(url_for(".login"))

    # ------------------------------------------------------------------------ forgotten password

    @expose("/lupa-sandi", methods=["GET", "POST"])
    @no_cache
    def forgot(self):  # noqa: ANN201
        return self._email_form(
            title=_("Forgotten password"),
            intro=_("Enter the e-mail address of your applicant account. We send a link to choose a new password; "
                    "it works for one hour, once."),
            action=request_reset,
            done=_("If this address belongs to an applicant account, a link to choose a new password is on its "
                   "way. Check your inbox and the spam folder."),
        )

    @expose("/sandi-baru/<token>", methods=["GET", "POST"])
    @no_cache
    def reset(self, token: str):  # noqa: ANN201
        user = user_of_reset(db.session, _secret(), token)
        if user is None:
            return self._message(_("Link not valid"), _(
                "This link to choose a new password has expired, has already been used or is not valid. Ask for "
                "a new one."), 404, "warning", ((_("Forgotten password"), url_for(".forgot")),))
        error = None
        if request.method == "POST":
            password = request.form.get("password") or ""
            error = new_password_problem(user, password, request.form.get("confirm_password") or "",
                                         current_app.config["PASSWORD_MIN_LENGTH"])
            if error is None:
                self.appbuilder.sm.reset_password(user.id, password)  # ends the account's other sessions
                flash(_("Your new password is set. Sign in with it."), "success")
                return redirect(url_for(".login", email=user.username))
        return self.render_template("loket/portal/account_reset.html", title=_("Choose a new password"),
                                    username=user.username, error=error), 200 if error is None else 400

    # ------------------------------------------------------------------------ shared

    def _email_form(self, *, title: str, intro: str, action, done: str):  # noqa: ANN001, ANN202
        """A form of one e-mail field whose answer is the same whether the address is known."""
        email = ((request.form.get("email") if request.method == "POST" else request.args.get("email")) or "").strip()
        error = None
        if request.method == "POST":
            try:
                action(db.session, clean_email(email), secret=_secret(), links=_links(), office=_office(), now=_now())
                db.session.commit()
            except InvalidValue as exc:
                db.session.rollback()
                error = str(exc.message)
            except AccountError as exc:
                db.session.rollback()
                error = exc.message
            else:
                return self._message(title, done, kind="success",
                                     actions=((_("Sign in"), url_for(".login")),))
        return self.render_template(EMAIL_FORM, title=title, intro=intro, email=email, error=error), \
            200 if error is None else 400


class PortalRegisterUserView(RegisterUserDBView):
    """FAB's /register/ pages (on while AUTH_USER_REGISTRATION is): its form and its activation
    lead to the portal's, which check NIK, phone and the password policy and send the link
    through the outbox."""

    @expose("/form", methods=["GET"])
    def this_form_get(self):  # noqa: ANN201
        return redirect(url_for("PortalAccountView.register"))

    @expose("/form", methods=["POST"])
    def this_form_post(self):  # noqa: ANN201
        return redirect(url_for("PortalAccountView.register"), code=303)

    @expose("/activation/<string:activation_hash>")
    def activation(self, activation_hash: str):  # noqa: ANN201
        # FAB's bare hash is no signed link: the portal refuses it and offers a new one.
        return redirect(url_for("PortalAccountView.activate", token=activation_hash))
