"""The admin site is for administrators: accounts and groups, and the chat's opening hours.
Transcripts are not shown here."""

from django.contrib import admin

from haven.chat.models import OpeningException, OpeningHours


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ("weekday", "opens_at", "closes_at")
    list_filter = ("weekday",)


@admin.register(OpeningException)
class OpeningExceptionAdmin(admin.ModelAdmin):
    list_display = ("date", "closed", "opens_at", "closes_at", "note")
    date_hierarchy = "date"
