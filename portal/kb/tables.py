"""Knowledge base tables: categories (two levels), articles in Turkish and English, their
revisions, votes, related links and the search log.

Search runs on ``search_title``/``search_body``: the title and the plain text, folded
(Turkish-aware case, ı→i, no diacritics) and stemmed in Python by :mod:`portal.kb.text`. The
full-text index over them is engine-specific and made by raw SQL in a migration: an FTS5
table kept in sync by triggers on SQLite, a generated ``tsvector`` column with a GIN index on
PostgreSQL. Piccolo does not know about either.
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
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from portal.accounts.tables import StaffUser

STATUSES = ("draft", "published", "archived")
VISIBILITIES = ("everyone", "customers", "staff")
LANGS = ("tr", "en")


class Category(Table, tablename="kb_category"):
    id = Serial(primary_key=True)
    # Two levels: a top category has no parent; deleting a parent lifts its children up.
    parent = ForeignKey(references=LazyTableReference("Category", module_path=__name__),
                        on_delete=OnDelete.set_null, null=True, default=None)
    slug = Varchar(length=80, unique=True)
    name_tr = Varchar(length=120)
    name_en = Varchar(length=120)
    description_tr = Varchar(length=300, default="")
    description_en = Varchar(length=300, default="")
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class Article(Table, tablename="kb_article"):
    id = Serial(primary_key=True)
    # The Turkish and English versions of one article share a group key.
    translation_group = Varchar(length=32, index=True)
    lang = Varchar(length=2)
    slug = Varchar(length=120)  # unique per language (index made in the raw migration)
    title = Varchar(length=200)
    summary = Varchar(length=300, default="")  # the meta description and the list blurb
    body_markdown = Text(default="")
    body_html = Text(default="")  # rendered and sanitised once, at save
    body_text = Text(default="")  # plain text of the body: snippets
    toc = JSON(default="[]")  # [[level, id, text], ...] of the h2/h3 headings
    search_title = Text(default="")
    search_body = Text(default="")
    status = Varchar(length=12, default="draft", index=True)
    visibility = Varchar(length=12, default="everyone")
    publish_at = Timestamptz(null=True, default=None)  # in the future: scheduled
    category = ForeignKey(references=Category, on_delete=OnDelete.set_null, null=True, default=None,
                          index=True)
    author = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True, default=None)
    views = Integer(default=0)
    helpful_yes = Integer(default=0)
    helpful_no = Integer(default=0)
    suggest_clicks = Integer(default=0)  # opened from a suggestion while writing a request
    suggest_answered = Integer(default=0)  # "this answered my question" on a suggestion
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ArticleRevision(Table, tablename="kb_revision"):
    """Every save of an article: what it said and who wrote it. Restoring writes a new one."""

    id = Serial(primary_key=True)
    article = ForeignKey(references=Article, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    summary = Varchar(length=300, default="")
    body_markdown = Text(default="")
    author = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True, default=None)
    note = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ArticleVote(Table, tablename="kb_vote"):
    """One "was this helpful?" answer per visitor and article (unique index in the migration).

    ``visitor_hash`` is an HMAC of the customer id or of a random cookie: no personal data.
    """

    id = Serial(primary_key=True)
    article = ForeignKey(references=Article, on_delete=OnDelete.cascade, index=True)
    visitor_hash = Varchar(length=64)
    helpful = Boolean()
    comment = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RelatedArticle(Table, tablename="kb_related"):
    id = Serial(primary_key=True)
    article = ForeignKey(references=Article, on_delete=OnDelete.cascade, index=True)
    related = ForeignKey(references=Article, on_delete=OnDelete.cascade)
    position = Integer(default=0)


class SearchLog(Table, tablename="kb_search_log"):
    """What visitors searched for (folded), for the report of articles to write next."""

    id = Serial(primary_key=True)
    query = Varchar(length=200)
    lang = Varchar(length=2)
    results = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class ArticleImage(Table, tablename="kb_image"):
    """An image uploaded for an article, referenced from its Markdown as
    ``/kb/files/{storage_key}/{name}``. The file lives under ``var/kb_files/`` by its random
    ``storage_key``; it is served only to visitors who may read the article."""

    id = Serial(primary_key=True)
    article = ForeignKey(references=Article, on_delete=OnDelete.cascade, index=True)
    storage_key = Varchar(length=64, unique=True)
    filename = Varchar(length=150)
    content_type = Varchar(length=40)
    size = Integer()
    sha256 = Varchar(length=64)
    uploaded_by = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
