"""Supervisors' pages, under /console/canned/ (so the staff middleware guards them)."""

from django.urls import path

from haven.canned import views

app_name = "canned"

urlpatterns = [
    path("", views.canned_list, name="list"),
    path("new/", views.canned_edit, name="new"),
    path("<int:response_id>/", views.canned_edit, name="edit"),
    path("<int:response_id>/delete/", views.canned_delete, name="delete"),
]
