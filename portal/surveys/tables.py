"""Survey tables.

A :class:`SurveyRequest` is one question put to one customer: a CSAT for a solved ticket,
one recipient of a campaign, or a survey after a delivered order. Its link carries a random
token whose SHA-256 is stored (``token_hash``), so a leaked table gives no working link.
``sent_at`` is when a survey was *mailed*; the fatigue rule counts those. CSAT answers keep
the ticket, the agent and the team as they were when the ticket was solved.
"""

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import Customer, StaffUser, Team
from portal.orders.tables import Order
from portal.tickets.tables import Ticket


class SurveySettings(Table, tablename="survey_settings"):
    """One row (id 1): the knobs leads set on /staff/surveys/settings."""

    id = Serial(primary_key=True)
    fatigue_days = Integer(default=30)
    csat_enabled = Boolean(default=True)
    delivery_survey = Integer(null=True, default=None)  # a Survey id, or none: no delivery survey
    delivery_days = Integer(default=3)
    updated_at = Timestamptz(default=TimestamptzNow())


class Survey(Table, tablename="survey"):
    """A questionnaire staff built: an NPS survey or a custom one."""

    id = Serial(primary_key=True)
    title_tr = Varchar(length=200)
    title_en = Varchar(length=200)
    intro_tr = Text(default="")
    intro_en = Text(default="")
    created_by = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    archived_at = Timestamptz(null=True, default=None)


class Question(Table, tablename="survey_question"):
    id = Serial(primary_key=True)
    survey = ForeignKey(references=Survey, on_delete=OnDelete.cascade, index=True)
    position = Integer(default=0)
    kind = Varchar(length=10)  # nps | rating | single | multiple | text
    text_tr = Varchar(length=300)
    text_en = Varchar(length=300)
    options = JSON(default="[]")  # [{"tr": ..., "en": ...}] for single / multiple
    required = Boolean(default=False)


class Campaign(Table, tablename="survey_campaign"):
    """One sending of a survey to an audience, queued by the worker in batches."""

    id = Serial(primary_key=True)
    survey = ForeignKey(references=Survey, on_delete=OnDelete.cascade, index=True)
    audience = JSON(default="{}")  # {"kind": "segment|tag|delivered|everyone", "value": ...}
    per_minute = Integer(default=200)
    reminder_days = Integer(default=3)
    status = Varchar(length=10, default="sending", index=True)  # sending | sent
    cursor = Integer(default=0)  # the last customer id looked at
    queued = Integer(default=0)
    skipped_fatigue = Integer(default=0)
    skipped_opt_out = Integer(default=0)
    created_by = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class SurveyRequest(Table, tablename="survey_request"):
    id = Serial(primary_key=True)
    kind = Varchar(length=10, index=True)  # csat | campaign | delivery
    token_hash = Varchar(length=64, unique=True)
    customer = ForeignKey(references=Customer, on_delete=OnDelete.cascade, index=True)
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.cascade, null=True, unique=True)
    agent = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True, index=True)
    team = ForeignKey(references=Team, on_delete=OnDelete.set_null, null=True, index=True)
    survey = ForeignKey(references=Survey, on_delete=OnDelete.set_null, null=True, index=True)
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.cascade, null=True, index=True)
    order = ForeignKey(references=Order, on_delete=OnDelete.set_null, null=True, index=True)
    locale = Varchar(length=5, default="tr")
    created_at = Timestamptz(default=TimestamptzNow())
    solved_at = Timestamptz(null=True, default=None)  # CSAT: the solve this request was mailed for
    sent_at = Timestamptz(null=True, default=None, index=True)
    expires_at = Timestamptz()
    reminded_at = Timestamptz(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None, index=True)
    changed_at = Timestamptz(null=True, default=None)
    score = SmallInt(null=True, default=None)  # CSAT 1-5; campaigns: the first NPS question
    comment = Text(default="")
    alerted_at = Timestamptz(null=True, default=None)


class Answer(Table, tablename="survey_answer"):
    """A campaign or delivery survey's answer to one question."""

    id = Serial(primary_key=True)
    request = ForeignKey(references=SurveyRequest, on_delete=OnDelete.cascade, index=True)
    question = ForeignKey(references=Question, on_delete=OnDelete.cascade, index=True)
    number = SmallInt(null=True, default=None)
    text = Text(default="")
    choices = JSON(default="[]")


class OptOut(Table, tablename="survey_opt_out"):
    id = Serial(primary_key=True)
    customer = ForeignKey(references=Customer, on_delete=OnDelete.cascade, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class SurveyLink(Table, tablename="survey_link"):
    """A further link to the same request (the reminder's): the first mail's link keeps working."""

    id = Serial(primary_key=True)
    request = ForeignKey(references=SurveyRequest, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
