"""How a permit number is written. Kept apart so the models and the SOP file checker share it."""
from __future__ import annotations

# 503 is the licensing archive code; {prefix} is the permit type's receipt prefix (IPK).
DEFAULT_PERMIT_NUMBER_FORMAT = "503/{seq:04d}/{prefix}/DPMPTSPTK/{year}"


def format_permit_number(template: str, *, seq: int, year: int, prefix: str) -> str:
    return template.format(seq=seq, year=year, prefix=prefix)
