import pytest

from portal.settings import ConfigError, Settings, SmtpConfig

BASE = {"PORTAL_SECRET_KEY": "x" * 40}


def from_env(**env):
    return Settings.from_env({**BASE, **env}, read_dotenv=False)


def test_defaults_match_the_spec():
    s = from_env()
    assert s.database_url == "sqlite:///var/portal.sqlite3"
    assert s.base_url == "http://127.0.0.1:8000"
    assert s.smtp is None
    assert s.mail_from == "Portal <support@localhost>"
    assert s.redis_url is None
    assert s.redis_prefix == "portal"
    assert from_env(PORTAL_REDIS_PREFIX="desk-2").redis_prefix == "desk-2"
    assert s.default_locale == "tr"
    assert s.timezone == "Europe/Istanbul"
    assert s.workers == 1
    assert not s.is_https


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PORTAL_DATABASE_URL": "mysql://x"}, "PORTAL_DATABASE_URL"),
        ({"PORTAL_BASE_URL": "ftp://x"}, "PORTAL_BASE_URL"),
        ({"PORTAL_SMTP_URL": "http://mail"}, "PORTAL_SMTP_URL"),
        ({"PORTAL_SMTP_URL": "smtp://mail:notaport"}, "PORTAL_SMTP_URL"),
        ({"PORTAL_MAIL_FROM": "no address"}, "PORTAL_MAIL_FROM"),
        ({"PORTAL_MAIL_FROM": "A <a@b.c>\nBcc: x@y.z"}, "PORTAL_MAIL_FROM"),
        ({"PORTAL_REDIS_URL": "memcached://x"}, "PORTAL_REDIS_URL"),
        ({"PORTAL_REDIS_PREFIX": "a b*"}, "PORTAL_REDIS_PREFIX"),
        ({"PORTAL_DEFAULT_LOCALE": "de"}, "PORTAL_DEFAULT_LOCALE"),
        ({"PORTAL_TIMEZONE": "Mars/Olympus"}, "PORTAL_TIMEZONE"),
        ({"PORTAL_WORKERS": "two"}, "PORTAL_WORKERS"),
        ({"PORTAL_WORKERS": "0"}, "PORTAL_WORKERS"),
        ({"PORTAL_PORT": "70000"}, "PORTAL_PORT"),
        ({"PORTAL_HASH_NICENESS": "20"}, "PORTAL_HASH_NICENESS"),
        ({"PORTAL_HASH_NICENESS": "-5"}, "PORTAL_HASH_NICENESS"),
        ({"PORTAL_SECRET_KEY": "short"}, "PORTAL_SECRET_KEY"),
    ],
)
def test_bad_values_name_the_variable_in_one_line(env, variable):
    with pytest.raises(ConfigError) as info:
        from_env(**env)
    message = str(info.value)
    assert variable in message
    assert "\n" not in message


def test_smtp_url_forms():
    plain = SmtpConfig.parse("smtp://user:pa%40ss@mail.example.com:2525?starttls=1")
    assert (plain.host, plain.port, plain.username, plain.starttls, plain.implicit_tls) == (
        "mail.example.com", 2525, "user", True, False)
    assert plain.password == "pa@ss"  # percent-encoded in the URL
    tls = SmtpConfig.parse("smtps://mail.example.com")
    assert (tls.port, tls.implicit_tls) == (465, True)


def test_secret_is_generated_once_and_kept(tmp_path):
    env = {"PORTAL_VAR_DIR": str(tmp_path)}
    first = Settings.from_env(env, read_dotenv=False).secret_key
    second = Settings.from_env(env, read_dotenv=False).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_https_base_url_turns_on_secure_cookies():
    assert from_env(PORTAL_BASE_URL="https://destek.example.com/").is_https
    assert from_env(PORTAL_BASE_URL="https://destek.example.com/").base_url == "https://destek.example.com"
