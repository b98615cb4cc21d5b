"""Officers' accounts: argon2 passwords, TOTP secrets encrypted at rest, lockout, server-side sessions."""
