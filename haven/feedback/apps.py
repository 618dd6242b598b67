from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "haven.feedback"
    label = "feedback"
    verbose_name = "Visitors' feedback"
