from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.private_files import FILE_MODE, private_dir, private_file


def load_or_create_secret_key(instance_path: str) -> str:
    """SECRET_KEY from instance/secret_key, created once with owner-only permissions (an older,
    wider file is narrowed to them)."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.fchmod(fd, FILE_MODE)  # os.open's mode went through the umask
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    else:
        private_file(path)
    return path.read_text().strip()
