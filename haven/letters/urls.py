"""The counsellors' pages, under /console/letters/ (so the staff middleware guards them)."""

from django.urls import path

from haven.letters import views

app_name = "letters"

urlpatterns = [
    path("", views.letter_list, name="list"),
    path("count/", views.awaiting_count, name="count"),
    path("<uuid:letter_id>/", views.letter_detail, name="detail"),
]
