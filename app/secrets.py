from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create_secret_key(instance_path: str) -> str:
    """SECRET_KEY from instance/secret_key, created once with owner-only permissions."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
