"""Moving dossiers through the SOP: confirm (every dossier judged, nothing written), apply, answer.

The grid's actions (one row, the ticked rows, or every row matching the current filter) and the
dossier page only lead here. Every id is resolved and judged on the server: FAB's base filters do
not apply to actions, and a ticked box proves nothing. The confirmation sends back only the
dossiers it judged movable; apply judges them again as it writes.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.jobs.submit import start_job
from app.models import Dossier
from app.office import office_calendar
from app.printing import Office, Paper, describe_permits
from app.security import roles
from app.signing import SIGN_INLINE_MAX, Signing, move_and_sign, signing_credentials, will_number
from app.sop.bulk import move_in_chunks
from app.sop.machine import NEEDS_REASON, Action, Outcome
from app.sop.preview import Judged, changed_since, forecast
from app.sop.queue import next_in_queue
from app.tte import SigningRefused, TrustSettings, sealing_key
from app.views.base import MAX_DATABASE_INTEGER, holds_signing_certificate, whole_number
from app.views.documents import documents_dir
from app.views.dossiers import ACTION_LABELS, dossier_filter_query
from app.views.papers import current_office

MAX_BULK = 10_000
# The confirmation lists this many movable dossiers; refused ones one by one up to REFUSED_LISTED,
# past that grouped by reason, each group naming RECEIPTS_PER_REASON of them.
PREVIEW = 100
REFUSED_LISTED = 10
RECEIPTS_PER_REASON = 20
# The form field saying a one-dossier move answers on the dossier's page (set by the confirmation).
AFTER_DOSSIER = "dossier"


def parse_action(name: str | None) -> Action:
    try:
        return Action(name)
    except ValueError:
        abort(404)


def parse_ids(values: list[str]) -> dict[int, int | None]:
    """Ids given repeated (ids=1&ids=2, the grid) or comma-separated, each maybe with the version the
    confirmation judged (ids=1:4,2:1) -> {id: version or None}. Anything else is left out."""
    ids: dict[int, int | None] = {}
    for part in (part.strip() for value in values for part in str(value).split(",")):
        pk, _, version = part.partition(":")
        pk = whole_number(pk, 1, MAX_DATABASE_INTEGER)
        if pk is not None:
            ids[pk] = whole_number(version, 1, MAX_DATABASE_INTEGER) if version else None
    return ids


class Selection:
    """The dossiers a move is about: explicit ids, or every dossier matching a grid filter."""

    def __init__(self, ids: list[int], filter_args: str | None, seen: dict[int, int] | None = None) -> None:
        # filter_args None: exactly these ids; a string (maybe empty: no filter): the grid's query.
        # seen: the versions the confirmation judged movable (id -> Dossier.version).
        self.ids, self.filter_args, self.seen = ids, filter_args, seen or {}

    @classmethod
    def from_form(cls, form: MultiDict) -> Selection:
        ids = parse_ids(form.getlist("ids"))
        seen = {pk: version for pk, version in ids.items() if version is not None}
        return cls(list(ids), form.get("filter", "") if form.get("scope") == "filter" else None, seen)

    @property
    def scope(self) -> str:
        return "ids" if self.filter_args is None else "filter"

    def _query(self):  # noqa: ANN202
        if self.filter_args is None:
            return select(Dossier.id).where(Dossier.id.in_(self.ids))
        return dossier_filter_query(self.filter_args)

    def count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(self._query().subquery()))

    def dossier_ids(self) -> list[int]:
        return list(db.session.scalars(self._query().order_by(Dossier.id).limit(MAX_BULK)))

    def back_url(self, single_id: int | None) -> str:
        """Where "back" leads: the one dossier's page, or the grid as the user left it."""
        if single_id is not None:
            return url_for("DossierView.show", pk=single_id)
        if self.filter_args:
            return f"{url_for('DossierView.list')}?{self.filter_args}"
        return url_for("DossierView.list")


def _changed(row: Judged, action: Action) -> Outcome:
    reason = _l("Moved since the confirmation; it is now at stage %(stage)s. Check it and move it again if it "
                "still should.", stage=row.stage)
    return Outcome(row.dossier_id, row.receipt_number, action, moved=False, reasons=(str(reason),),
                   from_stage=row.stage)


def _user_roles() -> set[str]:
    # Roles given directly and through FAB groups alike.
    return {role.name for role in current_app.appbuilder.sm.get_user_roles(current_user)}


def _signs(action: Action) -> bool:
    """Whether this user's moves of this kind sign the permits they number: an ADVANCE by the
    holder of a TTE certificate (app.signing)."""
    return action is Action.ADVANCE and holds_signing_certificate()


def _too_many_to_sign() -> str:
    return str(_l("This move would issue permits to sign electronically for more than %(max)s dossiers: sign them "
                  "with the batch signing, which signs in the background, or select at most %(max)s.",
                  max=SIGN_INLINE_MAX))


def _may_print() -> bool:
    return current_app.appbuilder.sm.has_access("can_print", roles.DOSSIER_PAPER)


def _return_letter_url(dossier_id: int) -> str:
    return url_for("DossierPaperView.pdf", dossier_id=dossier_id, paper=Paper.RETURN_LETTER.value)


def _sentences(reasons: tuple[str, ...]) -> str:
    return " ".join(r if r.endswith(".") else f"{r}." for r in reasons)


def outcome_message(outcome: Outcome) -> str:
    """One dossier's move in a sentence, in the user's language."""
    receipt, stage = outcome.receipt_number, outcome.from_stage
    if not outcome.moved:
        return str(_l("Dossier %(receipt)s was not moved: %(reasons)s", receipt=receipt,
                      reasons=_sentences(outcome.reasons)))
    if outcome.action is Action.ADVANCE:
        path = " → ".join((stage, *outcome.through, outcome.to_stage or str(_l("Finished"))))
        text = str(_l("Dossier %(receipt)s moved: %(path)s", receipt=receipt, path=path))
        if outcome.permit_number:
            text += ". " + str(_l("Permit no. %(number)s issued", number=outcome.permit_number))
        return text + "."
    if outcome.action is Action.RETURN:
        return str(_l("Dossier %(receipt)s was returned to the applicant at stage %(stage)s.", receipt=receipt,
                      stage=stage))
    if outcome.action is Action.RESUME:
        return str(_l("Dossier %(receipt)s was taken back from the applicant at stage %(stage)s.", receipt=receipt,
                      stage=stage))
    return str(_l("Dossier %(receipt)s was rejected at stage %(stage)s.", receipt=receipt, stage=stage))


def _link(url: str, label: object, icon: str) -> Markup:
    return Markup('<a class="alert-link" href="{}"><i class="fa {}"></i> {}</a>').format(url, icon, str(label))


def flash_outcome(outcome: Outcome, next_id: int | None) -> None:
    """The answer to a one-dossier move, shown on the dossier's page: what happened, the return
    letter to print after a return, and the next dossier of the user's queue."""
    parts = [escape(outcome_message(outcome))]
    if outcome.moved and outcome.action is Action.RETURN and _may_print():
        parts.append(_link(_return_letter_url(outcome.dossier_id), _l("Print the return letter"), "fa-print"))
    if next_id is not None:
        parts.append(_link(url_for("DossierView.show", pk=next_id), _l("Next dossier"), "fa-arrow-right"))
    flash(Markup(" &middot; ").join(parts), "success" if outcome.moved else "warning")


class DossierMoveView(BaseView):
    route_base = "/dossiermoves"
    class_permission_name = roles.DOSSIER_MOVE
    base_permissions = ["can_move"]
    method_permission_name = {"confirm": "move", "apply": "move"}
    default_view = "confirm"

    @expose("/confirm", methods=["GET"])
    @has_access
    def confirm(self):  # noqa: ANN201
        action = parse_action(request.args.get("action"))
        selection = Selection.from_form(request.args)
        total = selection.count()
        if total == 0:
            flash(str(_l("No dossier selected.")), "warning")
            return redirect(url_for("DossierView.list"))
        page = {"action": action, "action_label": ACTION_LABELS[action], "needs_reason": action in NEEDS_REASON,
                "total": total, "max_bulk": MAX_BULK}
        if total > MAX_BULK:
            return self.render_template("loket/move_confirm.html", too_many=True, back_url=selection.back_url(None),
                                        **page)
        ids = selection.dossier_ids()
        # One dossier named by the dossier page or a one-row grid selection: its page answers.
        single_id = ids[0] if selection.scope == "ids" and len(ids) == 1 else None
        judged = forecast(db.session, ids, action, _user_roles())
        refused = judged.refused
        # The signer types the certificate's passphrase here when the move numbers permits.
        sign = _signs(action) and will_number(db.session, [row.dossier_id for row in judged.movable])
        return self.render_template(
            "loket/move_confirm.html",
            too_many=False,
            movable=judged.movable[:PREVIEW],
            movable_count=len(judged.movable),
            movable_ids=",".join(f"{pk}:{version}" for pk, version in judged.movable_seen.items()),
            refused=refused if len(refused) <= REFUSED_LISTED else [],
            refused_count=len(refused),
            reasons=judged.by_reason() if len(refused) > REFUSED_LISTED else [],
            receipts_per_reason=RECEIPTS_PER_REASON,
            after=AFTER_DOSSIER if single_id is not None else "",
            back_url=selection.back_url(single_id),
            sign=sign,
            too_many_to_sign=_too_many_to_sign() if sign and len(judged.movable) > SIGN_INLINE_MAX else "",
            **page,
        )

    @expose("/apply", methods=["POST"])
    @has_access
    def apply(self):  # noqa: ANN201
        action = parse_action(request.form.get("action"))
        selection = Selection.from_form(request.form)
        total = selection.count()
        if total > MAX_BULK:
            flash(str(_l("At most %(max)s dossiers per move; narrow the filter.", max=MAX_BULK)), "danger")
            return redirect(url_for("DossierView.list"))
        ids = selection.dossier_ids()
        if not ids:
            flash(str(_l("No dossier selected.")), "warning")
            return redirect(url_for("DossierView.list"))
        # Moved since the confirmation judged them: the user confirmed another move than this one.
        stale = [_changed(row, action) for row in changed_since(db.session, selection.seen)]
        stale_ids = {o.dossier_id for o in stale}
        ids = [pk for pk in ids if pk not in stale_ids]
        if stale and len(ids) > current_app.config["BULK_MOVE_INLINE_MAX"]:
            flash(str(_l("%(count)s dossiers were moved since the confirmation and stay where they are.",
                         count=len(stale))), "warning")
        signs = _signs(action)
        if signs and len(ids) > SIGN_INLINE_MAX and will_number(db.session, ids):
            # Signing takes a render and a signature per permit: a handful in a request, more in a job.
            flash(_too_many_to_sign(), "danger")
            return redirect(selection.back_url(None))
        if len(ids) > current_app.config["BULK_MOVE_INLINE_MAX"]:
            # Minutes of work: a job with progress, never a request a worker timeout would kill.
            job = start_job("bulk_move", {
                "action": action.value, "ids": ids, "note": request.form.get("note"), "user_id": current_user.id,
                "address": request.remote_addr, "public_base_url": request.url_root,
            }, current_user.id)
            flash(str(_l("%(count)s dossiers are moved by a background job, in small steps; this page shows its "
                         "progress, and its workbook lists what happened to each.", count=len(ids))), "info")
            return redirect(url_for("ReportJobView.show", pk=job.id))
        user_roles = _user_roles()
        office = current_office()
        move = dict(
            roles=user_roles,
            note=request.form.get("note"),
            timezone=current_app.config["OFFICE_TIMEZONE"],
            calendar=office_calendar(),
            describe_permit=describe_permits(office),
            carry=action is Action.ADVANCE,  # as the bulk-move job: on through the role's following stages
        )
        if signs and len(ids) <= SIGN_INLINE_MAX:
            try:
                outcomes = stale + self._move_and_sign(ids, action, office, move)
            except SigningRefused as exc:
                flash(exc.message, "danger")
                return redirect(url_for("DossierMoveView.confirm", action=action.value, scope="ids",
                                        ids=",".join(map(str, ids))))
        else:
            outcomes = stale + move_in_chunks(db.session, ids, action, clock=lambda: dt.datetime.now(dt.UTC),
                                              actor_id=current_user.id, **move)
        if request.form.get("after") == AFTER_DOSSIER and len(outcomes) == 1:
            (outcome,) = outcomes
            flash_outcome(outcome, next_in_queue(db.session, user_roles, exclude_id=outcome.dossier_id))
            return redirect(url_for("DossierView.show", pk=outcome.dossier_id))
        moved = [o for o in outcomes if o.moved]
        return self.render_template(
            "loket/move_result.html",
            action_label=ACTION_LABELS[action],
            moved=moved,
            refused=[o for o in outcomes if not o.moved],
            total=len(outcomes),
            return_letters=action is Action.RETURN and _may_print(),
            next_id=next_in_queue(db.session, user_roles),
        )

    @staticmethod
    def _move_and_sign(ids: list[int], action: Action, office: Office, move: dict) -> list[Outcome]:
        """The move of a certificate holder: the certificate opened and checked before anything
        moves (when the move numbers), then moved and signed in one transaction (app.signing).
        SigningRefused: nothing changed."""
        now = dt.datetime.now(dt.UTC)
        trust = TrustSettings.from_config(current_app.config)
        credentials = None
        if will_number(db.session, ids) or request.form.get("passphrase"):
            credentials = signing_credentials(db.session, current_user.id, request.form.get("passphrase") or "",
                                              trust=trust, key=sealing_key(current_app.config), now=now)
        signing = Signing(credentials, trust, current_user.id, office, documents_dir())
        outcomes = move_and_sign(db.session, ids, action, signing, clock=lambda: dt.datetime.now(dt.UTC), **move)
        for outcome in outcomes:
            if outcome.permit_number:
                flash(str(_l("Permit no. %(number)s is signed electronically.", number=outcome.permit_number)),
                      "success")
        return outcomes
