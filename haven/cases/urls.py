"""Coding, review, holds, import and export. Included under /console/cases/, so every page
here gets the staff middleware (second factor required)."""

from django.urls import path

from haven.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("count/", views.still_to_code_count, name="count"),
    path("conversation/<uuid:conversation_id>/", views.conversation_coding, name="conversation"),
    path("conversation/<uuid:conversation_id>/draft/", views.draft_save, name="draft"),
    path("conversation/<uuid:conversation_id>/hold/", views.hold_place, name="hold_place"),
    path("hold/<int:hold_id>/release/", views.hold_release, name="hold_release"),
    path("export/", views.export, name="export"),
    path("import/", views.import_cases, name="import"),
    path("<uuid:case_id>/", views.case_detail, name="case"),
]
