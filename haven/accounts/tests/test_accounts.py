"""Counsellor accounts: the group, the commands, and that an admin-made member can counsel."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from haven.accounts.services import COUNSELLOR_GROUP, counsellor_create
from haven.chat.selectors import can_counsel

pytestmark = pytest.mark.django_db


def test_migrate_leaves_a_counsellors_group_with_the_counsel_permission() -> None:
    group = Group.objects.get(name=COUNSELLOR_GROUP)
    assert list(group.permissions.values_list("codename", flat=True)) == ["counsel"]


def test_a_user_added_to_the_group_in_the_admin_can_counsel(django_user_model) -> None:
    """What an administrator does in /admin/ (add to the group) is all it takes."""
    user = django_user_model.objects.create_user("newcomer", password="x" * 20)
    assert not can_counsel(user)
    user.groups.add(Group.objects.get(name=COUNSELLOR_GROUP))
    user = django_user_model.objects.get(pk=user.pk)  # permissions are cached per instance
    assert can_counsel(user)
    assert not user.is_staff, "counsellors do not get the admin site"


def test_createcounsellor_generates_and_prints_a_password(django_user_model) -> None:
    out = io.StringIO()
    call_command("createcounsellor", "bram", stdout=out)
    password = out.getvalue().split("Password: ")[1].strip()
    user = django_user_model.objects.get(username="bram")
    assert user.check_password(password)
    assert can_counsel(user)


def test_createcounsellor_refuses_a_weak_password_and_an_existing_name(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("createcounsellor", "sam", "--password-stdin")
    counsellor_create(username="sam", password="a long test password 42")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createcounsellor", "sam")


def test_democounsellor_resets_the_demo_password_each_time(django_user_model) -> None:
    first, second = io.StringIO(), io.StringIO()
    call_command("democounsellor", stdout=first)
    call_command("democounsellor", stdout=second)
    passwords = [out.getvalue().split("password:")[1].split()[0] for out in (first, second)]
    assert passwords[0] != passwords[1]
    assert django_user_model.objects.get(username="demo").check_password(passwords[1])


def test_there_is_no_demo_account_in_production(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("democounsellor")
