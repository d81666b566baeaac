"""Identity: argon2 password hashes, login sessions, API tokens and workspace roles.

Secrets never rest in the database in clear: a session cookie and an API token are random
256-bit strings stored as their SHA-256 (they are high-entropy, so a fast hash suffices); a
password is stored as an argon2id hash (argon2-cffi defaults, RFC 9106). Roles per workspace
rank ``viewer < planner < admin``; a superadmin (``wattlas server create-admin``) may create
users and workspaces and read the whole audit log, and is otherwise an ordinary member.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import ROLES, ApiToken, LoginSession, Membership, User, now

SESSION_COOKIE = "wattlas_session"
LOGIN_CSRF_COOKIE = "wattlas_login_csrf"
SESSION_S = 12 * 3600.0
TOKEN_PREFIX = "wt_"
RANK = {r: i for i, r in enumerate(ROLES)}
_HASHER = None


def _hasher():  # noqa: ANN202 - argon2 is imported on first use
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()
    return _HASHER


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: list[str] = []


def burn_password_time(password: str) -> None:
    """Spend an argon2 verification on an unknown user, so a login's timing does not tell
    which user names exist."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_hex(8)))
    check_password(_DUMMY_HASH[0], password)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def new_session(s: Session, user: User) -> tuple[str, LoginSession]:
    """(the cookie value, the stored session) of a fresh login."""
    token = secrets.token_urlsafe(32)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=SESSION_S)
    row = LoginSession(token_hash=digest(token), csrf_token=secrets.token_urlsafe(32),
                       user_id=user.id, expires_at=expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    s.add(row)
    s.flush()
    return token, row


def session_of(s: Session, cookie: str | None) -> tuple[User, LoginSession] | None:
    if not cookie or len(cookie) > 200:
        return None
    row = s.scalar(select(LoginSession).where(LoginSession.token_hash == digest(cookie)))
    if row is None or row.expires_at < now():
        return None
    user = s.get(User, row.user_id)
    return (user, row) if user else None


def new_token(s: Session, user: User, name: str) -> tuple[str, ApiToken]:
    """(the token, shown once; the stored row holding its hash)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=digest(token))
    s.add(row)
    s.flush()
    return token, row


def token_of(s: Session, header: str | None) -> tuple[User, ApiToken] | None:
    if not header or not header.startswith("Bearer ") or len(header) > 300:
        return None
    row = s.scalar(select(ApiToken).where(ApiToken.token_hash == digest(header[7:].strip())))
    if row is None or row.revoked_at is not None:
        return None
    user = s.get(User, row.user_id)
    return (user, row) if user else None


def membership(s: Session, user: User, workspace_id: int) -> Membership | None:
    return s.scalar(select(Membership).where(Membership.workspace_id == workspace_id,
                                             Membership.user_id == user.id))


def at_least(m: Membership | None, role: str) -> bool:
    return m is not None and RANK[m.role] >= RANK[role]


def password_ok(maker: Any, username: str, password: str) -> int | None:
    """The id of `username` when `password` is right (None otherwise). Runs in a read-only
    session of its own, so the slow argon2 check never holds the service's write lock."""
    with maker() as s:
        row = s.execute(select(User.id, User.password_hash).where(
            User.username == username)).first()
    if row is None:
        burn_password_time(password)
        return None
    return row[0] if check_password(row[1], password) else None


def create_user(s: Session, username: str, password: str, superadmin: bool = False) -> User:
    user = User(username=username, password_hash=hash_password(password),
                is_superadmin=superadmin)
    s.add(user)
    s.flush()
    return user
