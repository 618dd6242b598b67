"""Supervisors' pages, under /console/referrals/ (so the staff middleware guards them)."""

from django.urls import path

from haven.referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("new/", views.referral_edit, name="new"),
    path("<int:referral_id>/", views.referral_edit, name="edit"),
    path("<int:referral_id>/delete/", views.referral_delete, name="delete"),
]
