from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_groups(**kwargs: Any) -> None:
    from haven.accounts.services import ensure_counsellor_group

    ensure_counsellor_group()


class AccountsConfig(AppConfig):
    name = "haven.accounts"
    label = "accounts"

    def ready(self) -> None:
        # After every migrate (and every test flush) the Counsellors group exists.
        post_migrate.connect(_ensure_groups, sender=self, dispatch_uid="haven-counsellor-group")
