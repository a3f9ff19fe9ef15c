"""The one error the demo generator raises on purpose."""
from __future__ import annotations

import click


class DemoError(click.ClickException):
    """Shown by the CLI as `Error: <message>` with exit code 1."""
