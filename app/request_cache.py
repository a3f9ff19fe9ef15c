"""Per-request memo dicts.

flask.g lives as long as the app context, and a request only gets a fresh one when no app
context is active already (a CLI command, a test holding one open): caching on g directly can
carry a user's answers into the next request. These dicts belong to one request object.
"""
from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request

_KEY = "_loket_request_cache"


def request_cache(name: str) -> dict[Any, Any]:
    """The dict `name` of the current request; a throwaway dict outside a request."""
    if not has_request_context():
        return {}
    current = request._get_current_object()  # noqa: SLF001 - the identity of this request
    owner, caches = g.get(_KEY, (None, None))
    if owner is not current:
        caches = {}
        setattr(g, _KEY, (current, caches))
    return caches.setdefault(name, {})
