from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_groups(**kwargs: Any) -> None:
    from haven.accounts.services import ensure_role_groups

    ensure_role_groups()


class AccountsConfig(AppConfig):
    name = "haven.accounts"
    label = "accounts"

    def ready(self) -> None:
        from haven.accounts import receivers  # noqa: F401  (connects the sign-in receivers)

        # After every migrate (and every test flush) the role groups exist.
        post_migrate.connect(_ensure_groups, sender=self, dispatch_uid="haven-role-groups")
