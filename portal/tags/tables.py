"""A tag is a name; a tagging links it to one record of some kind (customer, order, ticket,
article) by kind and id. Records of other apps are referred to by id, not by foreign key, so
this app depends on none of them and any app can be tagged."""

from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import StaffUser


class Tag(Table, tablename="tag"):
    id = Serial(primary_key=True)
    name = Varchar(length=60)
    # portal.i18n.search_fold(name): "İade", "iade" and "IADE" are one tag.
    name_key = Varchar(length=60, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Tagging(Table, tablename="tagging"):
    id = Serial(primary_key=True)
    tag = ForeignKey(references=Tag, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=10)  # customer | order | ticket | article
    object_id = Integer()
    created_by = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
