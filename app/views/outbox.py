"""The outbox (e-mail and WhatsApp) for Admin: what waits to leave, what left, what failed and why; failed messages
sent again ("Kirim ulang"). Read-only otherwise: messages are written by the app (app.outbox)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, flash, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from app import outbox
from app.extensions import db
from app.labels import label
from app.mail import mail_configured
from app.models import OutboxMessage, OutboxStatus
from app.outbox import Channel
from app.security import roles
from app.views.base import LoketModelView
from app.views.grid import LeanSelect2Widget, LoketInterface
from app.whatsapp import wa_configured

OUTBOX_STATUSES: dict[str, object] = {
    OutboxStatus.PENDING: _l("Waiting"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.FAILED: _l("Failed"),
}
OUTBOX_CHANNELS: dict[str, object] = {
    Channel.EMAIL: _l("Email"),
    Channel.WHATSAPP: _l("WhatsApp"),
}
ERROR_IN_GRID = 120  # characters of the last error a grid cell shows; the message's page shows it whole


class OutboxInterface(LoketInterface):
    """The grid leaves "next attempt" empty where none will come (sent, or failed until sent
    again) and cuts a long error short."""

    column_filters = {"status": [FilterEqual, FilterNotEqual], "channel": [FilterEqual, FilterNotEqual]}

    def get_values(self, lst: list, list_columns: list[str]) -> list[dict[str, Any]]:
        rows = list(super().get_values(lst, list_columns))  # FAB's is a generator
        for item, values in zip(lst, rows):
            if "next_attempt_at" in values and item.status != OutboxStatus.PENDING:
                values["next_attempt_at"] = None
            error = values.get("last_error")
            if error and len(error) > ERROR_IN_GRID:
                values["last_error"] = error[: ERROR_IN_GRID - 1] + "…"
        return rows


class OutboxView(LoketModelView):
    datamodel = OutboxInterface(OutboxMessage)
    class_permission_name = roles.OUTBOX
    base_permissions = ["can_list", "can_show", "can_retry"]
    method_permission_name = {"retry": "retry"}  # the action asks for can_retry (FAB's default: "retry")
    list_title = _l("Outbox")
    show_title = _l("Outgoing message")
    label_columns = {
        "created_at": _l("Queued at"),
        "channel": _l("Channel"),
        "recipient": _l("Recipient"),
        "subject": _l("Subject"),
        "status": _l("Status"),
        "attempts": _l("Attempts"),
        "next_attempt_at": _l("Next attempt"),
        "sent_at": _l("Sent at"),
        "last_error": _l("Last error"),
        "body_text": _l("Message"),
    }
    description_columns = {
        "attempts": _l("Failed tries so far. After %(max)s the message waits as failed until it is sent again.",
                       max=outbox.MAX_ATTEMPTS),
    }
    list_columns = ["created_at", "channel", "recipient", "subject", "status", "attempts", "next_attempt_at", "sent_at",
                    "last_error"]
    show_columns = ["created_at", "channel", "recipient", "subject", "status", "attempts", "next_attempt_at", "sent_at",
                    "last_error", "body_text"]
    search_columns = ["channel", "recipient", "subject", "status", "created_at", "sent_at"]
    order_columns = ["created_at", "status", "attempts", "next_attempt_at", "sent_at"]
    base_order = ("id", "desc")
    moment_columns = ("created_at", "next_attempt_at", "sent_at")
    formatters_columns = {
        "status": lambda code: label(OUTBOX_STATUSES, code),
        "channel": lambda code: label(OUTBOX_CHANNELS, code),
        "last_error": lambda value: value or "",
    }
    search_form_extra_fields = {
        "status": SelectField(_l("Status"), widget=LeanSelect2Widget(),
                              choices=lambda: [(code, str(text)) for code, text in OUTBOX_STATUSES.items()]),
        "channel": SelectField(_l("Channel"), widget=LeanSelect2Widget(),
                               choices=lambda: [(code, str(text)) for code, text in OUTBOX_CHANNELS.items()]),
    }

    @action("retry", _l("Send again"), _l("Send the chosen messages again?"), "fa-repeat", single=False)
    def retry(self, items: Any):  # noqa: ANN201, ANN401
        """Every chosen row exists (CrudGuard looked each posted id up, or answered 404); none
        may be a message already sent, or nothing changes."""
        messages = items if isinstance(items, list) else [items]
        if not messages:
            flash(str(_l("Choose at least one message.")), "warning")
            return redirect(self.get_redirect())
        sent = [m for m in messages if m.status == OutboxStatus.SENT]
        if sent:
            flash(str(_l("%(count)s of the chosen messages were sent already; only waiting or failed messages are "
                         "sent again. Nothing was changed.", count=len(sent))), "danger")
            return redirect(self.get_redirect())
        changed = outbox.retry(db.session, [m.id for m in messages], dt.datetime.now(dt.UTC))
        db.session.commit()
        flash(str(_l("%(count)s message(s) will be sent again within a minute.", count=changed)), "success")
        channels = {m.channel for m in messages}
        if Channel.EMAIL in channels and not mail_configured(current_app):
            flash(str(_l("No mail server is set (LOKET_SMTP_URL): the messages wait in the outbox until one is.")),
                  "warning")
        if Channel.WHATSAPP in channels and not wa_configured(current_app):
            flash(str(_l("No WhatsApp gateway is set (LOKET_WA_GATEWAY_URL): the WhatsApp messages wait in the outbox "
                         "until one is.")), "warning")
        return redirect(self.get_redirect())
