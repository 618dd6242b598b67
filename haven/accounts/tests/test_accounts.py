"""Staff accounts: role groups, the commands, and that an admin-made member gets the role."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from haven.accounts.permissions import can, roles_of
from haven.accounts.roles import GROUP_FOR_ROLE, Action, Role
from haven.accounts.services import counsellor_create
from haven.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_migrate_leaves_one_group_per_role() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(GROUP_FOR_ROLE.values())
    administrators = Group.objects.get(name="Administrators")
    codenames = set(administrators.permissions.values_list("codename", flat=True))
    assert {"add_user", "change_user", "view_auditentry"} <= codenames
    assert "change_auditentry" not in codenames and "delete_auditentry" not in codenames


def test_a_user_added_to_a_group_in_the_admin_gets_that_role(django_user_model) -> None:
    """What an administrator does in /admin/ (add to the group) is all it takes."""
    user = django_user_model.objects.create_user("newcomer", password="x" * 20)
    assert not can(user, Action.USE_CONSOLE)
    user.groups.add(Group.objects.get(name="Counsellors"))
    user = django_user_model.objects.get(pk=user.pk)  # roles are cached per instance
    assert roles_of(user) == {Role.COUNSELLOR}
    assert can(user, Action.USE_CONSOLE)


def test_createstaff_generates_a_password_and_sets_roles(django_user_model) -> None:
    out = io.StringIO()
    call_command("createstaff", "bram", "--role", "supervisor", "--role", "analyst", stdout=out)
    password = out.getvalue().split("Password: ")[1].strip()
    user = django_user_model.objects.get(username="bram")
    assert user.check_password(password)
    assert roles_of(user) == {Role.SUPERVISOR, Role.ANALYST}
    assert not user.is_staff, "only administrators get the admin site"
    assert AuditEntry.objects.filter(action="account.create", target_id=str(user.pk)).exists()


def test_administrators_get_the_admin_site(django_user_model) -> None:
    call_command("createstaff", "ada", "--role", "administrator", stdout=io.StringIO())
    assert django_user_model.objects.get(username="ada").is_staff


def test_createcounsellor_is_createstaff_with_the_counsellor_role(django_user_model) -> None:
    call_command("createcounsellor", "cor", stdout=io.StringIO())
    assert roles_of(django_user_model.objects.get(username="cor")) == {Role.COUNSELLOR}


def test_createstaff_refuses_weak_passwords_existing_names_and_no_role(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("createcounsellor", "sam", "--password-stdin")
    counsellor_create(username="sam", password="a long test password 42")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createcounsellor", "sam")
    with pytest.raises(CommandError, match="role"):
        call_command("createstaff", "nobody")


def test_democounsellor_resets_the_demo_password_each_time(django_user_model) -> None:
    first, second = io.StringIO(), io.StringIO()
    call_command("democounsellor", stdout=first)
    call_command("democounsellor", stdout=second)
    passwords = [out.getvalue().split("password:")[1].split()[0] for out in (first, second)]
    assert passwords[0] != passwords[1]
    assert django_user_model.objects.get(username="demo").check_password(passwords[1])


def test_the_demo_account_shows_the_console_and_the_figures(django_user_model) -> None:
    """One demo login is enough to try everything: console, review and the figures."""
    from haven.accounts.permissions import can
    from haven.accounts.roles import Action

    call_command("democounsellor", stdout=io.StringIO())
    demo = django_user_model.objects.get(username="demo")
    for action in (Action.USE_CONSOLE, Action.REVIEW_CASES, Action.VIEW_FIGURES):
        assert can(demo, action)


def test_democode_prints_a_code_the_demo_authenticator_accepts(django_user_model) -> None:
    """A newcomer can pass the second step without a phone, in embedded mode only."""
    from django_otp import match_token

    call_command("democounsellor", stdout=io.StringIO())
    out = io.StringIO()
    call_command("democode", stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    assert match_token(django_user_model.objects.get(username="demo"), code) is not None


def test_there_is_no_demo_account_in_production(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("democounsellor")
