"""The password policy as a plain function: length, the account's own names, guessability."""
from __future__ import annotations

import pytest

from app.security.accounts import password_problem

NAMES = ("budi_fo", "Budi", "Santoso")


@pytest.mark.parametrize("password, why", [
    ("a", "paling sedikit 10"),
    ("1", "paling sedikit 10"),
    ("123456789", "paling sedikit 10"),
    ("12345678901", "mudah ditebak"),
    ("password1234", "mudah ditebak"),
    ("qwertyuiop12", "mudah ditebak"),
    ("landak20262026", "mudah ditebak"),
    ("BudiSantoso!9", "nama"),
    ("x-budi_fo-2026!", "nama"),
])
def test_weak_passwords_are_refused_with_the_reason(password, why):
    problem = password_problem(password, NAMES, 10)
    assert problem is not None and why in problem


@pytest.mark.parametrize("password", ["kuda-laut berlari pagi", "Ngopi!Sore#Sungai-Kapuas7", "t4w0n-r1m8a-z2q"])
def test_strong_passwords_pass(password):
    assert password_problem(password, NAMES, 10) is None


def test_the_minimum_length_is_configurable():
    assert "paling sedikit 14" in password_problem("kuda-laut-bir", NAMES, 14)
