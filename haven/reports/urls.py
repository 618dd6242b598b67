from django.urls import path

from haven.reports import team_views, views

app_name = "reports"

urlpatterns = [
    path("", views.report_page, name="page"),
    path("team/", team_views.team_page, name="team"),
    path("team.csv", team_views.team_csv, name="team_csv"),
]
