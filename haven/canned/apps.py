from django.apps import AppConfig


class CannedConfig(AppConfig):
    name = "haven.canned"
    label = "canned"
    verbose_name = "Canned responses"
