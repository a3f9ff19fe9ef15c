"""WhatsApp through an HTTP gateway the office runs or rents, configured by one URL
(LOKET_WA_GATEWAY_URL, Config.WA_GATEWAY_URL) and an optional token (LOKET_WA_GATEWAY_TOKEN, sent
as `Authorization: Bearer <token>`). Each message of the outbox (app.outbox) is one POST:

    Content-Type: application/json; charset=utf-8
    {"to": "+6281234567890", "text": "<the message>", "reference": "loket-<outbox id>"}

Any 2xx answer means the gateway took the message; its body is not read. Anything else raises,
so the outbox keeps the message and tries again (1, 2, 4 ... minutes, MAX_ATTEMPTS times, then
Admin sees it failed). A 4xx is retried too: a gateway that refuses one number today (429, 408,
a number not yet on WhatsApp) may take it later, and Admin sees the answer in the outbox either
way. No connection, a timeout, or 502/503/504 mean the gateway is down (GatewayUnavailable): the
round stops there and the other WhatsApp messages wait, untouched, for the next one. Redirects
are not followed (a POST redirected would arrive as an empty GET and "succeed").

"reference" is the same on every try of one message, so a gateway can drop a repeat (a try whose
answer was lost); the outbox itself sends at least once, never loses a message.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask
from flask_babel import lazy_gettext as _l

from app.models import OutboxMessage

SETTING = "LOKET_WA_GATEWAY_URL"
TOKEN_SETTING = "LOKET_WA_GATEWAY_TOKEN"
GATEWAY_TIMEOUT_SECONDS = 15
MAX_TEXT_LENGTH = 4096  # WhatsApp's own limit for one text message
ANSWER_IN_ERROR = 200  # characters of the gateway's answer kept in the error (and the outbox's last_error)
_DOWN_STATUSES = (502, 503, 504)

# Indonesian numbers after the country code 62 (the "national significant number"): mobile
# numbers are 81 to 89 and 7 to 10 more digits (0812-3456-7890); landlines an area code from 2 to
# 9 (not 8) and 6 to 10 digits in all after it (021-1234-5678, 0563-21234). Special numbers (1xx,
# 0800 free calls) are no one to write to.
_MOBILE = re.compile(r"8[1-9]\d{7,10}")
_LANDLINE = re.compile(r"[2-79]\d{6,10}")
_WRITTEN = re.compile(r"\+?[\d\s().\-/]+")


class GatewayUnavailable(Exception):
    """The gateway could not be reached or says it is down: no message would go through now, so
    the outbox stops the round after recording this one's failed try."""


class GatewayRefused(Exception):
    """The gateway answered, but not with 2xx: this message is tried again later."""


def normalize_phone(text: str) -> str:
    """An Indonesian phone number in the international form WhatsApp uses ("+6281234567890") from
    the ways people write it: 0812-3456-7890, +62 812 3456 7890, 62812..., (0563) 21234,
    +62 (0) 812.... ValueError with a message for the person who typed it otherwise."""
    written = (text or "").strip()
    if not written:
        raise ValueError(_l("Enter a phone number."))
    if not _WRITTEN.fullmatch(written):
        raise ValueError(_l("A phone number holds only digits, spaces, hyphens and a leading +, e.g. 0812-3456-7890."))
    digits = re.sub(r"\D", "", written)
    if written.startswith("+") or digits.startswith("00"):
        digits = digits.removeprefix("00")
        if not digits.startswith("62"):
            raise ValueError(_l("Only Indonesian phone numbers (+62 or 0...) can be used."))
        national = digits[2:].removeprefix("0")  # "+62 (0) 812 ..."
    elif digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        raise ValueError(_l("Write the phone number with its leading 0 or +62, e.g. 0812-3456-7890."))
    if not (_MOBILE.fullmatch(national) or _LANDLINE.fullmatch(national)):
        raise ValueError(_l("%(number)s is not an Indonesian mobile or landline number; write it as 0812-3456-7890 "
                            "or (0563) 21234.", number=written))
    return "+62" + national


def _refuse(problem: str) -> ValueError:
    return ValueError(
        f"{SETTING} is not a usable gateway address: {problem}. Write it as https://gateway.example/send "
        f"(the token goes into {TOKEN_SETTING}, not into the URL)."
    )


def gateway_url(url: str) -> str:
    """The gateway's URL, checked: http or https, a host, no user or password in it; ValueError
    naming LOKET_WA_GATEWAY_URL otherwise."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises on a port that is no number or out of range
    except ValueError as exc:
        raise _refuse(f"the host or port cannot be read ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _refuse(f"the scheme must be http or https, not {parts.scheme or 'missing'!r}")
    if not parts.hostname:
        raise _refuse("it names no host")
    if parts.username or parts.password:
        raise _refuse("it carries a user or password")
    if parts.fragment:
        raise _refuse("it has a #fragment")
    return url.strip()


def init_whatsapp(app: Flask) -> None:
    """Checks WA_GATEWAY_URL and WA_GATEWAY_TOKEN at start: a wrong setting would otherwise fail
    every message quietly, an hour at a time."""
    url = app.config.get("WA_GATEWAY_URL")
    if url:
        app.config["WA_GATEWAY_URL"] = gateway_url(url)
    token = app.config.get("WA_GATEWAY_TOKEN")
    if token and (token != token.strip() or any(ord(c) < 33 or ord(c) == 127 for c in token)):
        raise ValueError(f"{TOKEN_SETTING} holds spaces or control characters; a bearer token has none.")


def wa_configured(app: Flask) -> bool:
    return bool(app.config.get("WA_GATEWAY_URL"))


def gateway_body(message: OutboxMessage) -> dict[str, str]:
    """The JSON the gateway gets for one outbox message (documented in README.md)."""
    return {"to": message.recipient, "text": message.body_text, "reference": f"loket-{message.id}"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the 3xx is raised as an HTTPError: a failed try


_OPENER = urllib.request.build_opener(_NoRedirect)


def _answer(error: urllib.error.HTTPError) -> str:
    try:
        body = error.read(ANSWER_IN_ERROR + 1).decode("utf-8", "replace")
    except OSError:
        body = ""
    body = " ".join(body.split())
    return body if len(body) <= ANSWER_IN_ERROR else body[:ANSWER_IN_ERROR] + "…"


def gateway_sender(app: Flask) -> Callable[[OutboxMessage], None]:
    """A `send` for app.outbox.send_due: the message as one POST to the app's gateway. Returns on
    a 2xx answer; raises GatewayUnavailable (no connection, timeout, 502/503/504) or
    GatewayRefused (any other answer) otherwise."""
    url = app.config["WA_GATEWAY_URL"]
    headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
               "User-Agent": "Loket"}
    if app.config.get("WA_GATEWAY_TOKEN"):
        headers["Authorization"] = f"Bearer {app.config['WA_GATEWAY_TOKEN']}"

    def send(message: OutboxMessage) -> None:
        data = json.dumps(gateway_body(message), ensure_ascii=False).encode()
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=GATEWAY_TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            problem = f"the gateway answered {exc.code} {exc.reason}: {_answer(exc)}".rstrip(": ")
            exc.close()
            if exc.code in _DOWN_STATUSES:
                raise GatewayUnavailable(problem) from None
            raise GatewayRefused(problem) from None
        except urllib.error.URLError as exc:  # refused, no route, DNS, TLS
            reason = exc.reason
            raise GatewayUnavailable(
                f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
            ) from None
        except OSError as exc:  # a timeout while reading the answer, a connection reset
            raise GatewayUnavailable(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= status < 300:  # noqa: PLR2004 - urllib raises for most others; a 1xx final answer is no success
            raise GatewayRefused(f"the gateway answered {status}")

    return send
