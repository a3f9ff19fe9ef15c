"""The signers' TTE certificates (Admin): per account, the PKCS#12 file uploaded with the
passphrase its owner types at the administrator's desk (only to open and check it, never kept),
what it says (subject, issuer, serial, validity, fingerprint), replaced or removed.

Thin: app.signing opens, checks and seals the file; app.tte says why one is refused.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import exists, select

from app.extensions import db
from app.models import Account, SigningCertificate
from app.models.account import ACCOUNT_ROLE_TABLE, ROLE_TABLE
from app.security import roles
from app.signing import MAX_P12_BYTES, certificate_of, remove_certificate, store_certificate
from app.sop.calendar import as_utc
from app.tte import SigningRefused, TrustSettings, sealing_key

# The resource of this screen (app.security.roles grants it to Admin alone).


def _staff() -> list[Account]:
    """Every account holding a role other than the applicant's: who may be given a certificate."""
    staff_role = (
        select(ACCOUNT_ROLE_TABLE.c.user_id)
        .join(ROLE_TABLE, ROLE_TABLE.c.id == ACCOUNT_ROLE_TABLE.c.role_id)
        .where(ACCOUNT_ROLE_TABLE.c.user_id == Account.id, ROLE_TABLE.c.name != roles.PEMOHON)
    )
    return list(db.session.scalars(select(Account).where(exists(staff_role)).order_by(Account.first_name,
                                                                                        Account.last_name)))


def _state(certificate: SigningCertificate, now: dt.datetime) -> str:
    """"expired", "not_yet_valid" or "" (valid now), for the label beside its dates."""
    if as_utc(certificate.not_after) < now:
        return "expired"
    return "not_yet_valid" if as_utc(certificate.not_before) > now else ""


def _grouped(fingerprint: str) -> str:
    """AB:CD:... as certificate viewers show a fingerprint, so it can be compared by eye."""
    return ":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2)).upper()


class SigningCertificateView(BaseView):
    route_base = "/signingcertificates"
    class_permission_name = roles.SIGNING_CERTIFICATE
    base_permissions = ["can_list", "can_upload", "can_delete"]
    method_permission_name = {"list": "list", "account": "list", "upload": "upload", "remove": "delete"}
    default_view = "list"

    @expose("/", methods=["GET"])
    @has_access
    def list(self):  # noqa: ANN201
        accounts = _staff()
        held = {row.user_id: row for row in db.session.scalars(select(SigningCertificate))}
        return self.render_template("loket/signing_certificates.html", accounts=accounts, held=held,
                                    now=dt.datetime.now(dt.UTC), state=_state)

    @expose("/<int:user_id>", methods=["GET"])
    @has_access
    def account(self, user_id: int):  # noqa: ANN201
        account = db.session.get(Account, user_id) or abort(404)
        return self.render_template("loket/signing_certificate.html", account=account,
                                    certificate=certificate_of(db.session, user_id), now=dt.datetime.now(dt.UTC),
                                    state=_state, grouped=_grouped, max_kb=MAX_P12_BYTES // 1024)

    @expose("/<int:user_id>/upload", methods=["POST"])
    @has_access
    def upload(self, user_id: int):  # noqa: ANN201
        account = db.session.get(Account, user_id) or abort(404)
        chosen = request.files.get("file")
        # One byte past the limit is enough to refuse it.
        p12 = chosen.stream.read(MAX_P12_BYTES + 1) if chosen and chosen.filename else b""
        try:
            store_certificate(
                db.session, account.id, p12, request.form.get("passphrase") or "",
                trust=TrustSettings.from_config(current_app.config), key=sealing_key(current_app.config),
                uploaded_by_id=current_user.id, now=dt.datetime.now(dt.UTC),
            )
            db.session.commit()
        except SigningRefused as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            flash(str(_l("The electronic signature certificate of %(name)s is stored, encrypted.",
                         name=account.full_name)), "success")
        return redirect(url_for("SigningCertificateView.account", user_id=account.id))

    @expose("/<int:user_id>/remove", methods=["POST"])
    @has_access
    def remove(self, user_id: int):  # noqa: ANN201
        account = db.session.get(Account, user_id) or abort(404)
        if remove_certificate(db.session, account.id):
            db.session.commit()
            flash(str(_l("The electronic signature certificate of %(name)s is removed; the permits it signed stay "
                         "signed.", name=account.full_name)), "success")
        else:
            flash(str(_l("%(name)s holds no electronic signature certificate.", name=account.full_name)), "warning")
        return redirect(url_for("SigningCertificateView.account", user_id=account.id))
