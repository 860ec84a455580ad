"""The outbox: every outgoing mail, written in the same transaction as the change that caused it."""

from piccolo.columns import JSON, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Outbox(Table, tablename="outbox"):
    id = Serial(primary_key=True)
    template = Varchar(length=60)
    to_addr = Varchar(length=320)
    to_name = Varchar(length=200, default="")
    locale = Varchar(length=5, default="tr")
    subject = Varchar(length=300)
    body_text = Text()
    body_html = Text(default="")
    message_id = Varchar(length=200)
    headers = JSON(default="{}")
    related = Varchar(length=60, default="", index=True)
    coalesce_key = Varchar(length=120, null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    run_after = Timestamptz(default=TimestamptzNow(), index=True)
    attempts = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    lock_token = Varchar(length=40, null=True, default=None)
    sent_at = Timestamptz(null=True, default=None, index=True)
    failed_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
