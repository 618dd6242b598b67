from django.urls import path

from haven.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_page, name="page"),
]
