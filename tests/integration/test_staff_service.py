"""Staff administration rules (portal.accounts.staff) on both databases."""

from __future__ import annotations

import pytest

from portal.accounts import service, staff
from portal.accounts.service import AccountError
from portal.accounts.tables import ApiToken, StaffUser, TeamMember
from portal.clock import now
from portal.security import token_hash


@pytest.fixture
async def admin(running_app) -> dict:
    return await service.create_staff(
        email="root@example.com", name="Root", role="admin", password_hash="x", now=now()
    )


@pytest.fixture
async def agent(running_app) -> dict:
    return await service.create_staff(
        email="agent@example.com", name="Ayşe Ajan", role="agent", password_hash="x", now=now(), team="destek"
    )


async def test_add_staff_member_refuses_a_taken_address_whatever_its_case(admin):
    created = await staff.add_staff_member(
        email="Yeni@Example.com", name="Yeni", role="lead", password_hash="h", now=now()
    )
    assert created["role"] == "lead" and created["active"] is True
    with pytest.raises(AccountError) as exc:
        await staff.add_staff_member(
            email="yeni@example.COM", name="Other", role="admin", password_hash="h2", now=now()
        )
    assert exc.value.code == "email_taken"
    row = await StaffUser.select().where(StaffUser.id == created["id"]).first()
    assert row["name"] == "Yeni" and row["role"] == "lead" and row["password_hash"] == "h"


async def test_add_staff_member_with_a_team_and_bad_values(admin):
    team = await staff.create_team(
        slug="satis", name_tr="Satış", name_en="Sales", assignment="least_open", now=now()
    )
    member = await staff.add_staff_member(
        email="s@example.com", name="S", role="agent", password_hash="h", now=now(), team_id=team["id"]
    )
    assert [t["slug"] for t in (await _staff_row(member["id"]))["teams"]] == ["satis"]
    for kwargs, code in [
        ({"role": "root"}, "bad_role"),
        ({"locale": "de"}, "bad_locale"),
        ({"team_id": 999_999}, "no_team"),
    ]:
        args = {
            "email": f"{code}@example.com",
            "name": "X",
            "role": "agent",
            "password_hash": "h",
            "now": now(),
        }
        with pytest.raises(AccountError) as exc:
            await staff.add_staff_member(**{**args, **kwargs})
        assert exc.value.code == code
    assert await StaffUser.count().where(StaffUser.email_key.like("%bad_%")) == 0
    assert await StaffUser.count().where(StaffUser.email_key == "no_team@example.com") == 0


async def _staff_row(staff_id: int) -> dict:
    return next(s for s in await staff.list_staff() if s["id"] == staff_id)


async def test_nobody_changes_their_own_role_or_deactivates_themselves(admin, agent):
    with pytest.raises(AccountError) as exc:
        await staff.change_role(admin["id"], admin["id"], "agent")
    assert exc.value.code == "self"
    with pytest.raises(AccountError):
        await staff.change_role(agent["id"], agent["id"], "admin")
    with pytest.raises(AccountError):
        await staff.set_active(admin["id"], admin["id"], False)
    assert (await _staff_row(admin["id"]))["role"] == "admin"
    assert (await _staff_row(agent["id"]))["role"] == "agent"
    assert (await _staff_row(admin["id"]))["active"] is True


async def test_change_role_of_someone_else(admin, agent):
    await staff.change_role(admin["id"], agent["id"], "lead")
    assert (await _staff_row(agent["id"]))["role"] == "lead"
    with pytest.raises(AccountError) as exc:
        await staff.change_role(admin["id"], agent["id"], "superuser")
    assert exc.value.code == "bad_role"
    with pytest.raises(AccountError) as exc:
        await staff.change_role(admin["id"], 999_999, "agent")
    assert exc.value.code == "not_found"


async def test_deactivation_ends_sessions_and_availability(admin, agent):
    version = agent["session_version"]
    assert await service.staff_for_session(agent["id"], version) is not None
    await staff.set_active(admin["id"], agent["id"], False)
    assert await service.staff_for_session(agent["id"], version) is None
    assert await service.staff_for_login(agent["email"]) is None
    row = await StaffUser.select().where(StaffUser.id == agent["id"]).first()
    assert row["active"] is False and row["available"] is False and row["session_version"] == version + 1
    # Deactivating twice does not move the version again; reactivating works.
    await staff.set_active(admin["id"], agent["id"], False)
    assert (await StaffUser.select().where(StaffUser.id == agent["id"]).first())[
        "session_version"
    ] == version + 1
    await staff.set_active(admin["id"], agent["id"], True)
    assert await service.staff_for_login(agent["email"]) is not None
    with pytest.raises(AccountError):
        await staff.set_active(admin["id"], 999_999, False)


async def test_teams_create_rename_members_and_leads(admin, agent):
    team = await staff.create_team(
        slug="lojistik", name_tr="Lojistik", name_en="Logistics", assignment="round_robin", now=now()
    )
    with pytest.raises(AccountError) as exc:
        await staff.create_team(
            slug="lojistik", name_tr="L", name_en="L", assignment="round_robin", now=now()
        )
    assert exc.value.code == "slug_taken"
    with pytest.raises(AccountError):
        await staff.create_team(slug="x", name_tr="X", name_en="X", assignment="random", now=now())

    await staff.update_team(team["id"], name_tr="Kargo", name_en="Shipping", assignment="least_open")
    with pytest.raises(AccountError):
        await staff.update_team(999_999, name_tr="a", name_en="b", assignment="least_open")

    await staff.add_team_member(team["id"], agent["id"])
    with pytest.raises(AccountError) as exc:
        await staff.add_team_member(team["id"], agent["id"])
    assert exc.value.code == "already_member"
    with pytest.raises(AccountError):
        await staff.add_team_member(team["id"], 999_999)
    await staff.set_team_lead(team["id"], agent["id"], True)

    loaded = await staff.get_team(team["id"])
    assert (loaded["slug"], loaded["name_tr"], loaded["name_en"], loaded["assignment"]) == (
        "lojistik",
        "Kargo",
        "Shipping",
        "least_open",
    )
    assert [(m["id"], m["is_lead"]) for m in loaded["members"]] == [(agent["id"], True)]
    agent_teams = {t["slug"]: t["is_lead"] for t in (await _staff_row(agent["id"]))["teams"]}
    assert agent_teams == {"destek": False, "lojistik": True}

    await staff.remove_team_member(team["id"], agent["id"])
    assert await TeamMember.count().where(TeamMember.team == team["id"]) == 0
    with pytest.raises(AccountError):
        await staff.remove_team_member(team["id"], agent["id"])
    with pytest.raises(AccountError):
        await staff.set_team_lead(team["id"], agent["id"], True)


async def test_own_profile_password_and_availability(agent):
    await staff.update_own_profile(agent["id"], name="Ayşe Y.", locale="en")
    with pytest.raises(AccountError):
        await staff.update_own_profile(agent["id"], name="A", locale="fr")
    await staff.set_available(agent["id"], False)
    row = await staff.get_staff(agent["id"])
    assert (row["name"], row["locale"], row["available"], row["role"]) == ("Ayşe Y.", "en", False, "agent")
    version = await staff.change_own_password(agent["id"], "new-hash")
    assert version == agent["session_version"] + 1
    assert await staff.staff_password_hash(agent["id"]) == "new-hash"


async def test_api_tokens_are_listed_without_secrets_and_revoked(admin):
    secret = await service.create_api_token("web shop", now=now(), created_by=admin["id"])
    tokens = await staff.list_api_tokens()
    assert [(t["name"], t["prefix"], t["created_by_name"]) for t in tokens] == [
        ("web shop", secret[:10], "Root")
    ]
    assert secret not in repr(tokens)
    stored = await ApiToken.select(ApiToken.token_hash).first()
    assert stored["token_hash"] == token_hash(secret)
    assert await service.api_token_for(secret, now=now()) is not None
    assert await service.revoke_api_token(tokens[0]["id"], now=now()) is True
    assert await service.revoke_api_token(tokens[0]["id"], now=now()) is False
    assert await service.api_token_for(secret, now=now()) is None


async def test_directory_counts(admin, agent):
    counts = await staff.directory_counts()
    assert counts["staff"] == 2 and counts["teams"] == 1 and counts["customers"] == 0
    await staff.set_active(admin["id"], agent["id"], False)
    assert (await staff.directory_counts())["staff"] == 1
