"""Officer passwords: argon2id hashes (argon2-cffi, RFC 9106 low-memory profile)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 200  # argon2 takes any length; a bound keeps a megabyte "password" from costing much

_hasher = PasswordHasher()
# Verified against when no account has the given username, so that a wrong username costs as long as a wrong password.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None: no password set; the check still takes its time)."""
    try:
        return _hasher.verify(stored or _DUMMY, password[:MAX_LENGTH]) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """The hash was made with weaker parameters than today's: re-hash at the next successful sign-in."""
    return _hasher.check_needs_rehash(stored)


def new_password() -> str:
    """A random initial password (shown once, changed by the officer)."""
    return secrets.token_urlsafe(12)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, in Vietnamese (None: acceptable)."""
    if len(password) < MIN_LENGTH:
        return f"Mật khẩu mới phải có ít nhất {MIN_LENGTH} ký tự."
    if len(password) > MAX_LENGTH:
        return f"Mật khẩu mới không được dài quá {MAX_LENGTH} ký tự."
    if len(set(password)) < 4:
        return "Mật khẩu mới quá đơn giản."
    return None
