"""Every template compiles, and every mail renders in both languages without leaking markup."""

from pathlib import Path

import jinja2
import pytest

from portal import i18n
from portal.templating import TEMPLATE_DIR, mail_environment, page_environment, template_names

PAGES = [n for n in template_names() if not n.startswith("mail/")]
MAILS = sorted({p.parent.name for p in (TEMPLATE_DIR / "mail").glob("*/subject.txt")})


@pytest.mark.parametrize("name", PAGES)
def test_page_template_compiles(name):
    env = page_environment(base_url="http://portal.test", static_url=lambda n: f"/static/{n}")
    env.get_template(name)


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize("name", MAILS)
def test_mail_renders_three_parts(name, locale):
    env = mail_environment(base_url="http://portal.test")
    context = {"recipient_name": "Ayşe <b>Yılmaz</b>", "token": "TOKEN123", "hours": 72, "minutes": 60}
    with i18n.use_locale(locale):
        subject = env.get_template(f"{name}/subject.txt").render(context)
        text = env.get_template(f"{name}/body.txt").render(context)
        html = env.get_template(f"{name}/body.html").render(context)
    assert subject.strip() and "\n" not in subject.strip()
    assert text.strip()
    assert "<b>Yılmaz</b>" not in html  # customer text is data, escaped in HTML mail
    assert f'lang="{locale}"' in html


def test_mail_folders_are_complete():
    for folder in (TEMPLATE_DIR / "mail").iterdir():
        if folder.is_dir():
            assert {p.name for p in folder.iterdir()} >= {"subject.txt", "body.txt", "body.html"}, folder.name


def test_templates_folder_has_no_stray_files():
    assert all(Path(TEMPLATE_DIR, n).suffix in {".html", ".txt", ".xml", ".svg"} for n in template_names()), \
        template_names()


def test_undefined_is_not_silently_strict():
    # A missing optional variable renders as empty rather than crashing a page for a customer.
    env = page_environment(base_url="x", static_url=str)
    assert env.undefined is jinja2.Undefined
