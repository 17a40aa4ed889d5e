"""Users, API keys and the audit trail, as plain functions over the Store.

Every function takes ``db``: a ``Store`` (the function runs its own transaction) or an open
``Session`` (it joins the caller's transaction, so a change and its audit row commit together).
Roles grant scopes: viewer ``read``; trader ``read, trade``; admin ``read, trade, admin``.
Secrets never leave this module in clear except the two values that must: a generated admin
password (returned once by ``ensure_admin``) and a new API key (returned once by
``create_api_key``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewind.api.errors import Conflict, Forbidden, NotFound
from tradewind.api.security import generate_api_key, hash_password, verify_password
from tradewind.api.settings import ApiSettings
from tradewind.errors import ConfigError
from tradewind.store import Store
from tradewind.store.models import ApiKeyRow, AuditRow, UserRow

SCOPES = ("read", "trade", "admin")
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "viewer": ("read",),
    "trader": ("read", "trade"),
    "admin": ("read", "trade", "admin"),
}
ROLES = tuple(ROLE_SCOPES)
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
KEY_NAME_PATTERN = r"^[^\x00-\x1f\x7f]{1,64}$"
MIN_PASSWORD_LEN = 8
MAX_PASSWORD_LEN = 1024
DEFAULT_ADMIN = "admin"

Db = Store | Session


@contextlib.contextmanager
def _session(db: Db) -> Iterator[Session]:
    if isinstance(db, Session):
        yield db
    else:
        with db.session() as s:
            yield s


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def scopes_for_role(role: str) -> tuple[str, ...]:
    try:
        return ROLE_SCOPES[role]
    except KeyError:
        raise ConfigError(f"role {role!r} is unknown; expected one of {', '.join(ROLES)}") from None


def check_password(password: str) -> None:
    """Refuse unusable passwords (naming the rule, never the password)."""
    if not MIN_PASSWORD_LEN <= len(password) <= MAX_PASSWORD_LEN:
        raise ConfigError(
            f"password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters long, "
            f"got {len(password)}"
        )
    if not is_utf8(password):
        raise ConfigError("password must be valid Unicode text (it has an unpaired surrogate)")


def is_utf8(text: str) -> bool:
    """Whether ``text`` can be encoded (a JSON string may carry a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- users -------------------------------------------------------------------------------------


def find_user(db: Db, username: str) -> UserRow | None:
    with _session(db) as s:
        return s.scalars(select(UserRow).where(UserRow.username == username)).one_or_none()


def get_user(db: Db, username: str) -> UserRow:
    user = find_user(db, username)
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def list_users(db: Db) -> list[UserRow]:
    with _session(db) as s:
        return list(s.scalars(select(UserRow).order_by(UserRow.username)))


def create_user(db: Db, username: str, password: str, role: str = "viewer") -> UserRow:
    """A new active user with an argon2id hash of ``password``."""
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise ConfigError(
            f"username {username!r} is invalid: 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    scopes_for_role(role)
    check_password(password)
    with _session(db) as s:
        if s.scalars(select(UserRow.id).where(UserRow.username == username)).first() is not None:
            raise Conflict(f"user {username!r} already exists")
        user = UserRow(
            username=username, password_hash=hash_password(password), role=role, active=True,
            token_version=0, created_at=utcnow(),
        )  # fmt: skip
        s.add(user)
        try:
            s.flush()
        except IntegrityError as exc:  # created concurrently by another process
            raise Conflict(f"user {username!r} already exists") from exc
        return user


def authenticate(db: Db, username: str, password: str) -> UserRow | None:
    """The user if ``password`` is right and the account active, else None. A hash made with
    outdated argon2 parameters is upgraded on the way."""
    if not re.fullmatch(USERNAME_PATTERN, username):  # cannot exist; costs the same time
        verify_password(None, password)
        return None
    with _session(db) as s:
        user = s.scalars(select(UserRow).where(UserRow.username == username)).one_or_none()
        ok, new_hash = verify_password(user.password_hash if user else None, password)
        if not ok or user is None or not user.active:
            return None
        if new_hash is not None:
            user.password_hash = new_hash
        return user


def revoke_user_tokens(db: Db, username: str) -> int:
    """Refuse every token issued to ``username`` so far (API keys are not affected); returns
    the new token version."""
    with _session(db) as s:
        user = _locked_user(s, username)
        user.token_version += 1
        return user.token_version


def set_password(db: Db, username: str, password: str) -> int:
    """Change the password and refuse every token issued before; returns the token version."""
    check_password(password)
    with _session(db) as s:
        user = _locked_user(s, username)
        user.password_hash = hash_password(password)
        user.token_version += 1
        return user.token_version


def update_user(
    db: Db,
    username: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> UserRow:
    """Change role, active flag and/or password (which also revokes the user's tokens)."""
    if role is not None:
        scopes_for_role(role)
    if password is not None:
        check_password(password)
    with _session(db) as s:
        user = _locked_user(s, username)
        if role is not None:
            user.role = role
        if active is not None:
            user.active = active
        if password is not None:
            set_password(s, username, password)
        return user


def _locked_user(s: Session, username: str) -> UserRow:
    user = s.scalars(
        select(UserRow).where(UserRow.username == username).with_for_update()
    ).one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def ensure_admin(store: Store, settings: ApiSettings) -> str | None:
    """Create the first admin when the database has no user at all (no default credentials).

    The admin is ``settings.admin_user`` (default ``admin``) with ``settings.admin_password``;
    without a configured password a random one is generated and RETURNED (the only time it
    exists in clear): the caller shows it once to the operator and must never log it. Returns
    None when nothing was generated (users exist, or the password came from the settings).
    """
    username = settings.admin_user or DEFAULT_ADMIN
    generated = settings.admin_password is None
    password = (
        secrets.token_urlsafe(18)
        if settings.admin_password is None
        else settings.admin_password.get_secret_value()
    )
    try:
        with store.session() as s:
            if s.scalar(select(func.count()).select_from(UserRow)):
                return None
            create_user(s, username, password, "admin")
            detail = {"role": "admin", "reason": "first start", "generated_password": generated}
            audit(s, "system", "user.create", f"user:{username}", detail, source="cli")
    except Conflict:  # another process created it first
        return None
    return password if generated else None


# --- API keys ----------------------------------------------------------------------------------


def create_api_key(
    db: Db,
    user: UserRow | str,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKeyRow, str]:
    """A new key for ``user`` limited to ``scopes`` (a non-empty subset of the user's): the row
    (holding only the prefix and the SHA-256 of the secret) and the plaintext, shown once."""
    wanted = sorted(set(scopes))
    if not re.fullmatch(KEY_NAME_PATTERN, name):
        raise ConfigError(f"API key name {name!r} must be 1-64 printable characters")
    if not wanted:
        raise ConfigError("an API key needs at least one scope (read, trade or admin)")
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise ConfigError(f"unknown scope(s) {unknown}; expected a subset of {list(SCOPES)}")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise ConfigError(f"expires_at {expires_at.isoformat()} has no time zone")
        if expires_at <= utcnow():
            raise ConfigError(f"expires_at {expires_at.isoformat()} is in the past")
    with _session(db) as s:
        owner = _locked_user(s, user if isinstance(user, str) else user.username)
        allowed = set(ROLE_SCOPES.get(owner.role, ()))
        if not set(wanted) <= allowed:
            raise Forbidden(
                f"scope(s) {sorted(set(wanted) - allowed)} exceed what {owner.username!r} "
                f"({owner.role}) may grant: {sorted(allowed)}"
            )
        for _ in range(5):  # an 8-character prefix collides about once in 2**48 keys
            new = generate_api_key()
            if s.scalars(select(ApiKeyRow.id).where(ApiKeyRow.prefix == new.prefix)).first():
                continue
            row = ApiKeyRow(
                user_id=owner.id, name=name, prefix=new.prefix, key_hash=new.key_hash,
                scopes=wanted, created_at=utcnow(), expires_at=expires_at,
            )  # fmt: skip
            s.add(row)
            s.flush()
            return row, new.plaintext
    raise Conflict("could not draw an unused API key prefix; try again")


def list_api_keys(db: Db, username: str | None = None) -> list[tuple[ApiKeyRow, str]]:
    """``(key, owner's username)`` of ``username``'s keys (everyone's when None), newest first."""
    with _session(db) as s:
        q = select(ApiKeyRow, UserRow.username).join(UserRow, UserRow.id == ApiKeyRow.user_id)
        if username is not None:
            q = q.where(UserRow.username == username)
        rows = s.execute(q.order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.id.desc())).all()
        return [(row[0], row[1]) for row in rows]


def revoke_api_key(db: Db, prefix: str, *, owner: str | None = None) -> ApiKeyRow:
    """Revoke the key ``prefix`` (only among ``owner``'s keys when given); revoking twice keeps
    the first revocation time. ``NotFound`` when there is no such key (for that owner)."""
    with _session(db) as s:
        q = select(ApiKeyRow).where(ApiKeyRow.prefix == prefix)
        if owner is not None:
            q = q.join(UserRow, UserRow.id == ApiKeyRow.user_id).where(UserRow.username == owner)
        row = s.scalars(q.with_for_update()).one_or_none()
        if row is None:
            raise NotFound(f"API key {prefix!r} does not exist")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return row


def lookup_api_key(db: Db, prefix: str) -> tuple[ApiKeyRow, UserRow] | None:
    """The key with ``prefix`` and its owner (for authentication), or None."""
    with _session(db) as s:
        q = select(ApiKeyRow, UserRow).join(UserRow, UserRow.id == ApiKeyRow.user_id)
        found = s.execute(q.where(ApiKeyRow.prefix == prefix)).one_or_none()
        return None if found is None else (found[0], found[1])


def touch_api_key(db: Db, prefix: str, when: dt.datetime | None = None) -> None:
    """Record that the key was used (callers do it at most every few seconds per key)."""
    with _session(db) as s:
        row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix)).one_or_none()
        if row is not None:
            row.last_used_at = when or utcnow()


# --- audit -------------------------------------------------------------------------------------


def audit(
    db: Db,
    actor: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    request_id: str = "",
    source: str = "api",
) -> AuditRow:
    """Append one row to the (append-only) audit log. ``detail`` must never hold a secret."""
    row = AuditRow(
        at=utcnow(), actor=actor[:128], action=action[:64], target=target[:256],
        detail=dict(detail or {}), request_id=request_id[:64], source=source[:16],
    )  # fmt: skip
    with _session(db) as s:
        s.add(row)
        s.flush()
    return row


def query_audit(
    db: Db,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditRow]:
    """Audit rows matching every given filter (``since`` inclusive, ``until`` exclusive),
    newest first."""
    q = select(AuditRow)
    if actor is not None:
        q = q.where(AuditRow.actor == actor)
    if action is not None:
        q = q.where(AuditRow.action == action)
    if since is not None:
        q = q.where(AuditRow.at >= since)
    if until is not None:
        q = q.where(AuditRow.at < until)
    q = q.order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit).offset(offset)
    with _session(db) as s:
        return list(s.scalars(q))
