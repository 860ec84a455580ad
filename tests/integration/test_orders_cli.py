"""`portal import-orders FILE.csv` and `portal create-api-token --scope` (synchronous: the CLI
runs its own event loop)."""

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal import db
from portal.cli import main
from tests.conftest import SECRET

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def cli_env(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_SECRET_KEY", SECRET)
    monkeypatch.setenv("PORTAL_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PORTAL_ENV_FILE", str(tmp_path / "none.env"))
    return database_url


def _count(database_url: str, sql: str) -> int:
    from portal.settings import Settings

    async def go() -> int:
        engine = db.make_engine(Settings.from_env())
        db.bind(engine)
        await db.start(engine)
        try:
            rows = await engine.run_ddl(sql)
            return list(rows[0].values())[0]
        finally:
            await db.stop(engine)

    return asyncio.run(go())


def test_import_orders_reports_rejected_rows_and_is_idempotent(cli_env):
    runner = CliRunner()
    first = runner.invoke(main, ["import-orders", str(DATA / "orders_excel_tr.csv")])
    assert first.exit_code == 1, first.output  # some rows were rejected
    assert "3 orders created" in first.output
    assert "SP-20003" in first.output and "31.02.2026" in first.output
    second = runner.invoke(main, ["import-orders", str(DATA / "orders_excel_tr.csv")])
    assert "0 orders created, 0 updated, 3 unchanged" in second.output
    assert _count(cli_env, "SELECT COUNT(*) AS n FROM orders") == 3
    clean = runner.invoke(main, ["import-orders", str(DATA / "orders_en.csv")])
    assert clean.exit_code == 0, clean.output


def test_import_orders_refuses_an_unreadable_file(cli_env, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("hello;world\n1;2\n")
    result = CliRunner().invoke(main, ["import-orders", str(bad)])
    assert result.exit_code == 2
    assert "email" in result.output and "placed_at" in result.output  # the missing columns


def test_create_api_token_with_a_scope(cli_env):
    result = CliRunner().invoke(main, ["create-api-token", "shop", "--scope", "orders"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("pt_")
    assert _count(cli_env, "SELECT COUNT(*) AS n FROM api_token WHERE scopes = 'orders'") == 1
    everything = CliRunner().invoke(main, ["create-api-token", "all"])
    assert everything.exit_code == 0
    assert _count(cli_env, "SELECT COUNT(*) AS n FROM api_token WHERE scopes = '*'") == 1
