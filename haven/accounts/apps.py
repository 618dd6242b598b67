from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "haven.accounts"
    label = "accounts"

    def ready(self) -> None:
        from haven.accounts.services import ensure_counsellor_group

        def _after_migrate(**kwargs: object) -> None:
            ensure_counsellor_group()

        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="haven-counsellor-group")
