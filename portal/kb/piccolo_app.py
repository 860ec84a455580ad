from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.kb.tables import (
    Article,
    ArticleImage,
    ArticleRevision,
    ArticleVote,
    Category,
    RelatedArticle,
    SearchLog,
)

APP_CONFIG = AppConfig(
    app_name="kb",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Category, Article, ArticleRevision, ArticleVote, RelatedArticle, SearchLog,
                   ArticleImage],
    migration_dependencies=["portal.accounts.piccolo_app"],
    commands=[],
)
