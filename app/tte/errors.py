"""The one error of app.tte: its message is Indonesian, for the signer or the administrator."""
from __future__ import annotations


class SigningRefused(ValueError):
    """A certificate that cannot be used, or a passphrase that does not open it; .args[0] says why."""

    @property
    def message(self) -> str:
        return self.args[0]
