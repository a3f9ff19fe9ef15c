"""Error pages in Indonesian, inside the normal layout with the menu; JSON under /api/.

Status codes stay what they were; only the body changes. A 4xx raised with a message of our
own, `abort(404, description=_l("..."))`, shows that message under the page's general text (a
lazy string only: a library's English description is never shown). A 500 shows nothing of the
exception, on a page or in JSON.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import (
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
)

from app.extensions import db

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


@dataclass(frozen=True)
class ErrorText:
    title: object  # lazy strings: translated when the page is drawn, in the request's locale
    message: object


ERROR_TEXTS: dict[int, ErrorText] = {
    400: ErrorText(_l("Request not understood"),
                   _l("The request could not be understood. Go back, check what was filled in and try again.")),
    403: ErrorText(_l("Access denied"),
                   _l("Your account may not open this page. Ask the administrator if your work needs it.")),
    404: ErrorText(_l("Page not found"),
                   _l("The page or record asked for does not exist or has been removed. Check the address.")),
    405: ErrorText(_l("Not allowed this way"),
                   _l("This address cannot be used this way. Go back and use the buttons on the page.")),
    429: ErrorText(_l("Too many requests"),
                   _l("Too many requests in a short time. Wait a minute, then try again.")),
    500: ErrorText(_l("Server error"),
                   _l("The server could not finish this request. Try again in a moment; if it happens again, "
                      "tell the administrator what you were doing and when.")),
}
TOO_LARGE_TITLE = _l("File too large")  # 413; the message names the limit (_too_large)
CSRF_TEXT = ErrorText(_l("The form has expired"),
                      _l("This form has expired or was opened in an earlier session. "
                         "Reload the page, then fill in the form and send it again."))
CSRF_API_MESSAGE = _l("The CSRF token is missing or has expired. Reload the page and send the request again.")


def init_error_pages(app: Flask) -> None:
    for code in (400, 403, 404, 405, 429):
        app.register_error_handler(code, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(InternalServerError, _server_error)


def _http_error(error: HTTPException) -> ResponseReturnValue:
    text = ERROR_TEXTS[error.code]
    return error_response(error, text.title, text.message)


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    if _is_api():
        return error_response(error, CSRF_TEXT.title, CSRF_API_MESSAGE)
    return error_response(error, CSRF_TEXT.title, CSRF_TEXT.message, back_label=_l("Reload the form"))


def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload over the limit is refused before it is read: say so in words, back on the page
    it came from; with no such page to go back to, on the error page."""
    limit_mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = _l("The file is larger than the %(mb)s MB limit; nothing was saved.", mb=limit_mb)
    back = _same_site_referrer()
    if back and not _is_api():
        flash(str(message), "danger")
        return redirect(back)
    return error_response(error, TOO_LARGE_TITLE, message)


def _server_error(error: InternalServerError) -> ResponseReturnValue:
    # Flask has logged the exception already. A failed statement leaves the session unusable
    # (on PostgreSQL the whole transaction), and the menu needs it.
    try:
        db.session.rollback()
    except Exception:
        log.exception("rollback before the 500 page failed")
    text = ERROR_TEXTS[500]
    return error_response(error, text.title, text.message)


def error_response(error: HTTPException, title: object, message: object,
                   back_label: object = None) -> ResponseReturnValue:
    """The answer for an HTTP error: JSON `{"message": ...}` under /api/ (as FAB's API answers),
    otherwise the page, with a link back to the page the request came from; the exception's own
    headers (Allow, Retry-After) are kept."""
    if error.response is not None:  # a response someone already built for this error
        return error.response
    status = error.code or 500
    detail = error.description if status < 500 and isinstance(error.description, LazyString) else None
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if _is_api():
        return jsonify(message=str(detail or message)), status, headers
    back = _same_site_referrer()
    return _page(status, title, message, detail, back, back_label or _l("Back")), status, headers


def _page(status: int, title: object, message: object, detail: object, back: str | None, back_label: object) -> str:
    context = {"status": status, "title": title, "message": message, "detail": detail,
               "back": back, "back_label": back_label}
    try:
        # FAB's navbar reads g.user, set by FAB's before_request, which a refused request
        # (CSRF, rate limit) never reached.
        if "user" not in g:
            g.user = current_user
        appbuilder = current_app.appbuilder
        return render_template("loket/error.html", base_template=appbuilder.base_template,
                               appbuilder=appbuilder, **context)
    except Exception:
        log.exception("the %s page could not be drawn in the layout", status)
        # Straight from Jinja: Flask's context processors would load the user from the database.
        return current_app.jinja_env.get_template("loket/error_plain.html").render(**context)


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def _same_site_referrer() -> str | None:
    referrer = request.referrer
    return referrer if referrer and referrer.startswith(request.host_url) else None
