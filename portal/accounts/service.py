"""Account rules: sign-up, verification, log-in, password reset and change, profile, staff.

No Request objects here: callers pass parsed values and ``now``. Passwords arrive already
hashed (hashing is the caller's, off the event loop). Every mail is queued in the same
transaction as the change that causes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal import db
from portal.accounts.tables import ApiToken, AuthToken, Customer, StaffUser, Team, TeamMember
from portal.i18n import N_, email_key
from portal.mail import service as outbox
from portal.security import new_token, token_hash

VERIFY_TTL = timedelta(days=3)
RESET_TTL = timedelta(hours=1)
ROLES = ("agent", "lead", "admin")
ROLE_NAMES = {"agent": N_("agent"), "lead": N_("lead"), "admin": N_("admin")}
ROLE_RANK = {"agent": 1, "lead": 2, "admin": 3}

CUSTOMER_SESSION_COLUMNS = (Customer.id, Customer.email, Customer.name, Customer.phone, Customer.locale,
                            Customer.session_version, Customer.email_verified_at, Customer.created_at)

# The logged-in user is looked up on every request; these are the same selects as
# ``Customer.select(*CUSTOMER_SESSION_COLUMNS)`` and the staff one, written out once.
_CUSTOMER_FOR_SESSION = (
    "SELECT " + ", ".join(f'"{c._meta.db_column_name}"' for c in CUSTOMER_SESSION_COLUMNS)
    + ' FROM "customer" WHERE "id" = {} AND "deleted_at" IS NULL AND "email_verified_at" IS NOT NULL'
)
_STAFF_FOR_SESSION = (
    'SELECT "id", "email", "name", "role", "locale", "session_version", "available" '
    'FROM "staff_user" WHERE "id" = {} AND "active" = {}'
)


class AccountError(Exception):
    """A rule refused the change; ``code`` says which, for the caller to word."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- sessions ---------------------------------------------------------------------------------

async def customer_for_session(cid: Any, version: Any) -> dict | None:
    if not isinstance(cid, int) or not isinstance(version, int):
        return None
    row = await db.fetch_one(_CUSTOMER_FOR_SESSION, cid)  # every request: prebuilt SQL, not the builder
    if row is None or row["session_version"] != version:
        return None
    return row


async def staff_for_session(sid: Any, version: Any) -> dict | None:
    if not isinstance(sid, int) or not isinstance(version, int):
        return None
    row = await db.fetch_one(_STAFF_FOR_SESSION, sid, True)
    if row is None or row["session_version"] != version:
        return None
    return row


# --- link tokens ------------------------------------------------------------------------------

async def _issue_token(purpose: str, *, now: datetime, ttl: timedelta, customer_id: int | None = None,
                       staff_id: int | None = None, data: dict | None = None) -> str:
    token = new_token()
    await AuthToken.insert(AuthToken(purpose=purpose, token_hash=token_hash(token), customer=customer_id,
                                     staff=staff_id, data=data or {}, created_at=now, expires_at=now + ttl))
    return token


async def _consume_token(purpose: str, token: str, *, now: datetime) -> dict | None:
    """Mark a token used, once: the UPDATE only matches an unused, unexpired token."""
    if not token or len(token) > 200:
        return None
    digest = token_hash(token)
    rows = await AuthToken.raw(
        "UPDATE auth_token SET used_at = {} WHERE token_hash = {} AND purpose = {} AND used_at IS NULL "
        "AND expires_at > {} RETURNING id, customer, staff, data",
        now, digest, purpose, now,
    )
    return rows[0] if rows else None


async def token_is_valid(purpose: str, token: str, *, now: datetime) -> bool:
    if not token or len(token) > 200:
        return False
    row = await AuthToken.select(AuthToken.id).where(
        (AuthToken.token_hash == token_hash(token)) & (AuthToken.purpose == purpose)
        & AuthToken.used_at.is_null() & (AuthToken.expires_at > now)
    ).first()
    return row is not None


# --- customers --------------------------------------------------------------------------------

async def find_or_create_customer(email: str, *, name: str = "", locale: str = "tr", now: datetime,
                                  phone: str | None = None) -> dict:
    """The customer record for an address (orders, forms and mail create them without a password)."""
    key = email_key(email)
    row = await Customer.select().where(Customer.email_key == key).first()
    if row:
        return row
    await Customer.raw(
        "INSERT INTO customer (email, email_key, name, phone, locale, session_version, created_at, "
        "updated_at) VALUES ({}, {}, {}, {}, {}, 0, {}, {}) ON CONFLICT (email_key) DO NOTHING",
        email.strip(), key, name, phone, locale, now, now,
    )
    return await Customer.select().where(Customer.email_key == key).first()


@dataclass(frozen=True)
class SignupResult:
    customer_id: int
    created_account: bool


def _token_data(row: dict) -> dict:
    """``data`` of a token row from a raw query: JSON text on both engines."""
    data = row.get("data") or {}
    return json.loads(data) if isinstance(data, str) else dict(data)


async def _mail_verification(customer: dict, *, name: str, locale: str, password_hash: str,
                             now: datetime) -> None:
    # The link carries the password of the sign-up that sent it: whoever follows a link
    # gets exactly that sign-up, never a password someone else typed for the address later.
    token = await _issue_token("verify", now=now, ttl=VERIFY_TTL, customer_id=customer["id"],
                               data={"password_hash": password_hash})
    await outbox.enqueue("verify-email", to=customer["email"], name=name, locale=locale,
                         context={"token": token, "hours": int(VERIFY_TTL.total_seconds() // 3600)},
                         now=now, related=f"customer:{customer['id']}")


def has_account(customer: dict) -> bool:
    """A customer row is a log-in account once it has a password and a verified address."""
    return customer["email_verified_at"] is not None and bool(customer["password_hash"])


async def signup(*, name: str, email: str, password_hash: str, locale: str, now: datetime) -> SignupResult:
    """Start an account. The answer to the visitor is the same whatever happens here
    ("check your mail"), so nobody learns which addresses have accounts."""
    async with db.transaction():
        customer = await find_or_create_customer(email, name=name, locale=locale, now=now)
        if has_account(customer):
            # An account exists: tell its owner, change nothing.
            await outbox.enqueue("account-exists", to=customer["email"], name=customer["name"],
                                 locale=customer["locale"], context={}, now=now,
                                 related=f"customer:{customer['id']}")
            return SignupResult(customer["id"], created_account=False)
        values: dict = {Customer.name: name or customer["name"], Customer.locale: locale,
                        Customer.updated_at: now}
        if customer["email_verified_at"] is None:
            # Kept on the unverified row only so that a log-in with it can say "confirm your
            # address first"; it never logs anyone in before a link is followed.
            values[Customer.password_hash] = password_hash
        await Customer.update(values).where(Customer.id == customer["id"])
        await _mail_verification(customer, name=name, locale=locale, password_hash=password_hash, now=now)
    return SignupResult(customer["id"], created_account=True)


async def verify_email(token: str, *, now: datetime) -> dict:
    """Follow a verification link (by POST): the address is confirmed and the password of
    that sign-up becomes the account's. Every other pending link of the customer dies."""
    async with db.transaction():
        row = await _consume_token("verify", token, now=now)
        if row is None or row["customer"] is None:
            raise AccountError("invalid_token")
        customer = await Customer.select().where(Customer.id == row["customer"]).first()
        pending_hash = _token_data(row).get("password_hash")
        if customer is not None and not has_account(customer) and pending_hash:
            await Customer.update({
                Customer.email_verified_at: customer["email_verified_at"] or now,
                Customer.password_hash: pending_hash, Customer.updated_at: now,
            }).where(Customer.id == row["customer"])
        await AuthToken.delete().where((AuthToken.customer == row["customer"])
                                       & (AuthToken.purpose == "verify"))
        return await Customer.select(*CUSTOMER_SESSION_COLUMNS).where(Customer.id == row["customer"]).first()


async def resend_verification(email: str, *, now: datetime) -> None:
    """A new link for a sign-up still waiting for its address to be confirmed; else nothing."""
    async with db.transaction():
        customer = await customer_for_login(email)
        if not customer or customer["email_verified_at"] is not None or not customer["password_hash"]:
            return
        await _mail_verification(customer, name=customer["name"], locale=customer["locale"],
                                 password_hash=customer["password_hash"], now=now)


async def customer_for_login(email: str) -> dict | None:
    return await Customer.select().where(
        (Customer.email_key == email_key(email)) & Customer.deleted_at.is_null()
    ).first()


async def record_login(customer_id: int, *, now: datetime, new_hash: str | None = None) -> None:
    """Note the log-in; ``new_hash`` replaces a hash made with older argon2 parameters."""
    values: dict = {Customer.last_login_at: now}
    if new_hash:
        values[Customer.password_hash] = new_hash
    await Customer.update(values).where(Customer.id == customer_id)


async def request_password_reset(email: str, *, now: datetime) -> None:
    """Mail a reset link to the *stored* address of an account; say nothing either way."""
    async with db.transaction():
        customer = await customer_for_login(email)
        if customer is None or not customer["password_hash"]:
            return
        await AuthToken.delete().where((AuthToken.customer == customer["id"]) & (AuthToken.purpose == "reset")
                                       & AuthToken.used_at.is_null())
        token = await _issue_token("reset", now=now, ttl=RESET_TTL, customer_id=customer["id"])
        await outbox.enqueue("password-reset", to=customer["email"], name=customer["name"],
                             locale=customer["locale"],
                             context={"token": token, "minutes": int(RESET_TTL.total_seconds() // 60)},
                             now=now, related=f"customer:{customer['id']}")


async def _drop_pending_links(customer_id: int) -> None:
    """After a password is set, older reset and sign-up links must not set another one."""
    await AuthToken.delete().where((AuthToken.customer == customer_id) & AuthToken.used_at.is_null()
                                   & AuthToken.purpose.is_in(["reset", "verify"]))


async def reset_password(token: str, password_hash: str, *, now: datetime) -> dict:
    """Set a new password from a reset link; ends every session; verifies the address
    (the link proved the customer reads it)."""
    async with db.transaction():
        row = await _consume_token("reset", token, now=now)
        if row is None or row["customer"] is None:
            raise AccountError("invalid_token")
        customer = await Customer.select().where(Customer.id == row["customer"]).first()
        await Customer.update({
            Customer.password_hash: password_hash,
            Customer.session_version: Customer.session_version + 1,
            Customer.email_verified_at: customer["email_verified_at"] or now,
            Customer.updated_at: now,
        }).where(Customer.id == row["customer"])
        await _drop_pending_links(row["customer"])
        await outbox.enqueue("password-changed", to=customer["email"], name=customer["name"],
                             locale=customer["locale"], context={}, now=now,
                             related=f"customer:{customer['id']}")
        return await Customer.select(*CUSTOMER_SESSION_COLUMNS).where(Customer.id == row["customer"]).first()


async def password_hash_of(customer_id: int) -> str | None:
    row = await Customer.select(Customer.password_hash).where(Customer.id == customer_id).first()
    return row["password_hash"] if row else None


async def change_password(customer_id: int, password_hash: str, *, now: datetime) -> int:
    """Returns the new session version: the caller keeps its own session, every other one ends."""
    async with db.transaction():
        await Customer.update({
            Customer.password_hash: password_hash,
            Customer.session_version: Customer.session_version + 1,
            Customer.updated_at: now,
        }).where(Customer.id == customer_id)
        await _drop_pending_links(customer_id)
        customer = await Customer.select().where(Customer.id == customer_id).first()
        await outbox.enqueue("password-changed", to=customer["email"], name=customer["name"],
                             locale=customer["locale"], context={}, now=now,
                             related=f"customer:{customer_id}")
    return customer["session_version"]


async def update_profile(customer_id: int, *, name: str, phone: str | None, locale: str,
                         now: datetime) -> None:
    await Customer.update({Customer.name: name, Customer.phone: phone or None, Customer.locale: locale,
                           Customer.updated_at: now}).where(Customer.id == customer_id)


async def set_customer_locale(customer_id: int, locale: str) -> None:
    await Customer.update({Customer.locale: locale}).where(Customer.id == customer_id)


# --- data protection (KVKK/GDPR) ----------------------------------------------------------------

EXPORTERS: list[Any] = []


def register_exporter(fn: Any) -> Any:
    """Each domain adds what it keeps about a customer to the data download."""
    EXPORTERS.append(fn)
    return fn


async def export_customer(customer_id: int) -> dict:
    customer = await Customer.select(
        Customer.email, Customer.name, Customer.phone, Customer.locale, Customer.created_at,
        Customer.email_verified_at, Customer.last_login_at,
    ).where(Customer.id == customer_id).first()
    data: dict[str, Any] = {"profile": customer}
    for exporter in EXPORTERS:
        data.update(await exporter(customer_id))
    return data


ERASERS: list[Any] = []


def register_eraser(fn: Any) -> Any:
    ERASERS.append(fn)
    return fn


async def delete_account(customer_id: int, *, now: datetime) -> None:
    """Erase personal data; keep the record (anonymised) so ticket history stays whole."""
    async with db.transaction():
        placeholder = f"deleted-{customer_id}@invalid"
        await Customer.update({
            Customer.email: placeholder, Customer.email_key: placeholder, Customer.name: "",
            Customer.phone: None, Customer.password_hash: None, Customer.email_verified_at: None,
            Customer.session_version: Customer.session_version + 1, Customer.deleted_at: now,
            Customer.updated_at: now,
        }).where(Customer.id == customer_id)
        await AuthToken.delete().where(AuthToken.customer == customer_id)
        for eraser in ERASERS:
            await eraser(customer_id, now=now)


# --- staff ------------------------------------------------------------------------------------

async def staff_for_login(email: str) -> dict | None:
    return await StaffUser.select().where(
        (StaffUser.email_key == email_key(email)) & (StaffUser.active == True)  # noqa: E712
    ).first()


async def record_staff_login(staff_id: int, *, now: datetime, new_hash: str | None = None) -> None:
    values: dict = {StaffUser.last_login_at: now}
    if new_hash:
        values[StaffUser.password_hash] = new_hash
    await StaffUser.update(values).where(StaffUser.id == staff_id)


async def ensure_team(slug: str, *, name_tr: str | None = None, name_en: str | None = None) -> dict:
    row = await Team.select().where(Team.slug == slug).first()
    if row:
        return row
    await Team.insert(Team(slug=slug, name_tr=name_tr or slug.title(), name_en=name_en or slug.title()))
    return await Team.select().where(Team.slug == slug).first()


async def create_staff(*, email: str, name: str, role: str, password_hash: str | None, now: datetime,
                       team: str | None = None, lead: bool = False, locale: str = "tr") -> dict:
    if role not in ROLES:
        raise AccountError("bad_role")
    key = email_key(email)
    async with db.transaction():
        existing = await StaffUser.select().where(StaffUser.email_key == key).first()
        if existing:
            values: dict = {StaffUser.name: name, StaffUser.role: role, StaffUser.active: True}
            if password_hash:
                values[StaffUser.password_hash] = password_hash
                values[StaffUser.session_version] = StaffUser.session_version + 1
            await StaffUser.update(values).where(StaffUser.id == existing["id"])
            staff_id = existing["id"]
        else:
            row = StaffUser(email=email.strip(), email_key=key, name=name, role=role, password_hash=password_hash,
                            locale=locale, created_at=now)
            await row.save()
            staff_id = row.id
        if team:
            t = await ensure_team(team)
            member = await TeamMember.select(TeamMember.id).where(
                (TeamMember.team == t["id"]) & (TeamMember.staff == staff_id)).first()
            if member is None:
                await TeamMember.insert(TeamMember(team=t["id"], staff=staff_id, is_lead=lead or role == "lead"))
    return await StaffUser.select().where(StaffUser.id == staff_id).first()


def role_at_least(role: str | None, needed: str) -> bool:
    return ROLE_RANK.get(role or "", 0) >= ROLE_RANK[needed]


# --- API tokens -------------------------------------------------------------------------------

async def create_api_token(name: str, *, now: datetime, created_by: int | None = None,
                           scopes: str = "*") -> str:
    secret = "pt_" + new_token(32)
    await ApiToken.insert(ApiToken(name=name, prefix=secret[:10], token_hash=token_hash(secret),
                                   created_by=created_by, created_at=now, scopes=scopes))
    return secret


async def api_token_for(secret: str, *, now: datetime) -> dict | None:
    if not secret or len(secret) > 200:
        return None
    row = await ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.last_used_at, ApiToken.scopes).where(
        (ApiToken.token_hash == token_hash(secret)) & ApiToken.revoked_at.is_null()
    ).first()
    if row is None:
        return None
    last = row["last_used_at"]
    if last is None or now - last > timedelta(minutes=1):
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return row


async def revoke_api_token(token_id: int, *, now: datetime) -> bool:
    rows = await ApiToken.update({ApiToken.revoked_at: now}).where(
        (ApiToken.id == token_id) & ApiToken.revoked_at.is_null()).returning(ApiToken.id)
    return bool(rows)


async def set_staff_locale(staff_id: int, locale: str) -> None:
    await StaffUser.update({StaffUser.locale: locale}).where(StaffUser.id == staff_id)
