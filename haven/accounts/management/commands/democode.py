"""``haven democode``: the demo account's current two-step code. Embedded mode only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from haven.accounts.management.commands.democounsellor import DEMO_USERNAME
from haven.accounts.models import SealedTOTPDevice


class Command(BaseCommand):
    help = "Print the demo counsellor's current two-step sign-in code (not in production)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("There is no demo account in production mode.")
        device = SealedTOTPDevice.objects.filter(
            user__username=DEMO_USERNAME, confirmed=True
        ).first()
        if device is None:
            raise CommandError("No demo account yet: run `haven democounsellor` first.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
