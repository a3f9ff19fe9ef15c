from __future__ import annotations

from flask import Flask

from app.formatting import format_day, format_moment, or_dash


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["tanggal"] = format_day
    app.jinja_env.filters["waktu"] = format_moment
    app.jinja_env.filters["or_dash"] = or_dash
