from django.apps import AppConfig


class EstimationConfig(AppConfig):
    name = "haven.estimation"
    label = "estimation"
    verbose_name = "Estimation"
