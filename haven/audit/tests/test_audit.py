"""The audit log can be added to, never changed or emptied: not by code, not by the admin."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.db import connection, transaction
from django.test import RequestFactory

from haven.audit.models import AppendOnlyError, AuditEntry
from haven.audit.services import audit_record

pytestmark = pytest.mark.django_db


def test_entries_record_who_what_and_when(counsellor, clock) -> None:  # type: ignore[no-untyped-def]
    entry = audit_record(
        actor=counsellor, action="transcript.read", target_type="conversation", target_id="abc"
    )
    assert (entry.actor_name, entry.action, entry.target_id, entry.at) == (
        "anna",
        "transcript.read",
        "abc",
        clock.moment,
    )


def test_an_entry_cannot_be_changed_or_deleted_through_the_model(counsellor) -> None:  # type: ignore[no-untyped-def]
    entry = audit_record(actor=counsellor, action="x")
    entry.action = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "x"


def test_on_postgresql_the_database_itself_refuses_changes(counsellor) -> None:  # type: ignore[no-untyped-def]
    """Even raw SQL cannot rewrite the log on PostgreSQL (a trigger); on SQLite the model
    and queryset guards above are what stands."""
    entry = audit_record(actor=counsellor, action="x")
    if connection.vendor != "postgresql":
        assert not AuditEntry.objects.filter(action="rewritten").exists()
        return
    from django.db.utils import DatabaseError

    for statement in (
        "UPDATE audit_auditentry SET action = 'rewritten'",
        "DELETE FROM audit_auditentry",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEntry.objects.get(pk=entry.pk).action == "x"


def test_deleting_an_account_keeps_its_history(make_staff, django_user_model) -> None:  # type: ignore[no-untyped-def]
    person = make_staff("leaver", "counsellor")
    audit_record(actor=person, action="transcript.read")
    person.delete()
    entry = AuditEntry.objects.get(action="transcript.read")
    assert entry.actor_name == "leaver"


def test_the_admin_shows_the_log_read_only(make_staff) -> None:  # type: ignore[no-untyped-def]
    admin_user = make_staff("adam", "administrator")
    request = RequestFactory().get("/admin/audit/auditentry/")
    request.user = admin_user
    model_admin = site._registry[AuditEntry]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
