"""What every report job's builder is given, and how it says no (kinds and moves build on it)."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from app.printing import Office

Progress = Callable[..., None]


class ReportRefused(ValueError):
    """str(exc) is an Indonesian message for the requester."""


@dataclass(frozen=True)
class JobContext:
    office: Office
    print_workers: int
    now: dt.datetime

    @classmethod
    def current(cls) -> JobContext:
        config = current_app.config
        return cls(
            office=Office.from_config(config, config.get("PUBLIC_BASE_URL") or "http://localhost"),
            print_workers=config["PRINT_WORKERS"] or os.cpu_count() or 1,
            now=dt.datetime.now(dt.UTC),
        )
