"""Sign-in events: the session remembers its epoch; everything goes to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from haven.accounts.permissions import SESSION_EPOCH_KEY, session_epoch
from haven.audit.services import audit_record


@receiver(user_logged_in, dispatch_uid="haven-logged-in")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_EPOCH_KEY] = session_epoch(user)
    audit_record(actor=user, action="session.sign_in", target_type="user", target_id=user.pk)


@receiver(user_logged_out, dispatch_uid="haven-logged-out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action="session.sign_out", target_type="user", target_id=user.pk)


@receiver(user_login_failed, dispatch_uid="haven-login-failed")
def _login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Only a name that is an account is written down: whatever else was typed (perhaps
    # someone's real name) stays out of the log.
    username = str(credentials.get("username", ""))
    account = get_user_model().objects.filter(username=username).first()
    audit_record(
        actor=None,
        action="session.sign_in_failed",
        target_type="user" if account else "",
        target_id=account.pk if account else "",
        detail={"username": username} if account else {"username": "(no such account)"},
    )


@receiver(m2m_changed, sender=get_user_model().groups.through, dispatch_uid="haven-roles-changed")
def _roles_changed(sender: Any, instance: Any, action: str, pk_set: Any, **kwargs: Any) -> None:
    """Every change of roles, wherever it is made (admin site included), is in the log."""
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    from django.contrib.auth.models import Group

    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    audit_record(
        actor=None,
        action=f"account.roles_{action.removeprefix('post_')}",
        target_type="user",
        target_id=instance.pk,
        detail={"username": instance.get_username(), "groups": names},
    )
