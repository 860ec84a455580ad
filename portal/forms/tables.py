"""Request form tables: the form (its fields as versioned JSON), the versions of its fields and
of its consent text, the submissions, and the "this answered my question" deflections.

A form's ``definition`` holds its fields; every save bumps ``version`` and keeps a copy in
``FormVersion``, so a submission names exactly which fields the visitor saw. The KVKK consent
text is versioned on its own (``consent_version``; copies in ``FormConsent``): editing the text
bumps it, and a submission keeps the version the visitor agreed to.
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

from portal.accounts.tables import Team
from portal.kb.tables import Article
from portal.tickets.tables import Ticket


class Form(Table, tablename="request_form"):
    id = Serial(primary_key=True)
    slug = Varchar(length=60, unique=True)
    name_tr = Varchar(length=120)
    name_en = Varchar(length=120)
    version = Integer(default=1)
    definition = JSON(default='{"fields": []}')  # {"fields": [...]} see portal.forms.fields
    # What the ticket gets (routing rules may change it afterwards).
    team = ForeignKey(references=Team, on_delete=OnDelete.set_null, null=True, default=None)
    priority = Varchar(length=10, default="normal")
    tags = JSON(default="[]")
    ticket_type = Varchar(length=40, default="")
    success_tr = Text(default="")
    success_en = Text(default="")
    origins = JSON(default="[]")  # allowed embedding origins, CSP source expressions
    consent_enabled = Boolean(default=False)
    consent_tr = Text(default="")
    consent_en = Text(default="")
    consent_version = Integer(default=0)
    altcha = Boolean(default=False)  # ask for a proof of work (portal.forms.altcha) before a post
    per_address_limit = Integer(default=10)  # submissions per client address per hour
    per_form_limit = Integer(default=600)  # submissions of this form per minute
    archived_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class FormVersion(Table, tablename="request_form_version"):
    id = Serial(primary_key=True)
    form = ForeignKey(references=Form, on_delete=OnDelete.cascade, index=True)
    version = Integer()
    definition = JSON(default='{"fields": []}')
    created_at = Timestamptz(default=TimestamptzNow())


class FormConsent(Table, tablename="request_form_consent"):
    id = Serial(primary_key=True)
    form = ForeignKey(references=Form, on_delete=OnDelete.cascade, index=True)
    version = Integer()
    text_tr = Text(default="")
    text_en = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Submission(Table, tablename="form_submission"):
    id = Serial(primary_key=True)
    form = ForeignKey(references=Form, on_delete=OnDelete.cascade, index=True)
    form_version = Integer()
    consent_version = Integer(null=True, default=None)
    # Tickets are never deleted, but a merge or an erasure must not take the record with it.
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.set_null, null=True, default=None)
    token_id = Varchar(length=40, unique=True)  # the form token's nonce: a replay finds this row
    payload_hash = Varchar(length=64, default="")
    page_url = Varchar(length=500, default="")
    lang = Varchar(length=2, default="tr")
    client_hash = Varchar(length=64, default="")  # HMAC of the client address, never the address
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class Deflection(Table, tablename="form_deflection"):
    """A visitor said a suggested article answered their question: a request not sent."""

    id = Serial(primary_key=True)
    form = ForeignKey(references=Form, on_delete=OnDelete.cascade, index=True)
    article = ForeignKey(references=Article, on_delete=OnDelete.set_null, null=True, default=None)
    token_id = Varchar(length=40, default="")
    lang = Varchar(length=2, default="tr")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
