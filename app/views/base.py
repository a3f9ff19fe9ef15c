"""Shared grid defaults: Indonesian dates, sensible page size."""
from __future__ import annotations

from flask_appbuilder import ModelView

from app.formatting import format_day, format_moment


class LoketModelView(ModelView):
    page_size = 25
    # Column name -> formatter; subclasses list their date columns here.
    date_columns: tuple[str, ...] = ()
    moment_columns: tuple[str, ...] = ()

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        formatters = {c: format_day for c in self.date_columns}
        formatters |= {c: format_moment for c in self.moment_columns}
        self.formatters_columns = {**formatters, **(self.formatters_columns or {})}
        super().__init__(**kwargs)
