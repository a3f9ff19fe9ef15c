"""Loket: the permit back office.

The package itself imports nothing: the SOP engine (app.sop), the models and the report
builders are plain Python that a script or a test uses without loading Flask. create_app lives
in app.factory and is loaded on first call.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from config import Config


def create_app(config_class: type[Config] | None = None) -> Flask:
    """The Flask app (see app.factory.create_app)."""
    from app.factory import create_app as build

    return build() if config_class is None else build(config_class)
