"""The estimates page for analysts. Included under /console/estimates/, so every page here
gets the staff middleware (second factor required)."""

from django.urls import path

from haven.estimation import views

app_name = "estimation"

urlpatterns = [
    path("", views.estimates_page, name="list"),
    path("<uuid:estimate_id>/", views.estimate_detail, name="detail"),
    path("<uuid:estimate_id>/delete/", views.estimate_delete, name="delete"),
]
