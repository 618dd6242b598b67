from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "haven.letters"
    label = "letters"
    verbose_name = "Messages left"
