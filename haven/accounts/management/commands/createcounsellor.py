"""``haven createcounsellor NAME``: ``haven createstaff NAME --role counsellor``."""

from haven.accounts.management.commands.createstaff import Command as CreateStaff


class Command(CreateStaff):
    help = "Create a counsellor account and print its password (or read one from stdin)."
    default_roles = ["counsellor"]
