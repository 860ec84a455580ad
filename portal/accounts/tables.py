"""Accounts: customers (people the company serves), staff, teams, link tokens and API tokens.

A ``Customer`` row exists for everyone the company knows by e-mail (from an order, a form,
a mail), whether or not they have a password. The row becomes a log-in account when a
password is set and the address is verified; only then do the customer's orders and tickets
show in the portal.
"""

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Customer(Table, tablename="customer"):
    id = Serial(primary_key=True)
    email = Varchar(length=320)
    email_key = Varchar(length=320, unique=True, index=True)
    name = Varchar(length=200, default="")
    phone = Varchar(length=32, null=True, default=None, index=True)
    locale = Varchar(length=5, default="tr")
    password_hash = Varchar(length=200, null=True, default=None)
    email_verified_at = Timestamptz(null=True, default=None)
    session_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)


class Team(Table, tablename="team"):
    id = Serial(primary_key=True)
    slug = Varchar(length=60, unique=True)
    name_tr = Varchar(length=120)
    name_en = Varchar(length=120)
    assignment = Varchar(length=20, default="round_robin")
    created_at = Timestamptz(default=TimestamptzNow())


class StaffUser(Table, tablename="staff_user"):
    id = Serial(primary_key=True)
    email = Varchar(length=320)
    email_key = Varchar(length=320, unique=True, index=True)
    name = Varchar(length=200)
    role = Varchar(length=10, default="agent")
    password_hash = Varchar(length=200, null=True, default=None)
    locale = Varchar(length=5, default="tr")
    available = Boolean(default=True)
    active = Boolean(default=True)
    session_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class TeamMember(Table, tablename="team_member"):
    id = Serial(primary_key=True)
    team = ForeignKey(references=Team, on_delete=OnDelete.cascade, index=True)
    staff = ForeignKey(references=StaffUser, on_delete=OnDelete.cascade, index=True)
    is_lead = Boolean(default=False)


class AuthToken(Table, tablename="auth_token"):
    """Single-use, expiring link tokens (verify e-mail, reset password). Only a hash is stored."""

    id = Serial(primary_key=True)
    purpose = Varchar(length=20)
    token_hash = Varchar(length=64, unique=True)
    customer = ForeignKey(references=Customer, on_delete=OnDelete.cascade, null=True, index=True)
    staff = ForeignKey(references=StaffUser, on_delete=OnDelete.cascade, null=True, index=True)
    data = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="api_token"):
    """Bearer tokens for the JSON API. The secret is shown once; only its SHA-256 is kept."""

    id = Serial(primary_key=True)
    name = Varchar(length=120)
    prefix = Varchar(length=12)
    token_hash = Varchar(length=64, unique=True)
    created_by = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    note = Text(default="")
    # What the token may do: "*" (everything) or a comma-separated list such as "orders,tickets";
    # see portal.accounts.api_scopes.
    scopes = Text(default="*")
