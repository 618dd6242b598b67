from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from haven.chat import views as chat_views
from haven.feedback import views as feedback_views
from haven.letters import views as letter_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", chat_views.healthz, name="healthz"),
    path("livez", chat_views.livez, name="livez"),
    path("metrics", chat_views.metrics_view, name="metrics"),
    # The language lives in the path: / is Dutch, /en/ is English. No language cookie.
    *i18n_patterns(
        path("", chat_views.visitor_home, name="home"),
        # The visitor page's calls for messages left for later (haven.letters.views).
        path("letter/leave", letter_views.leave, name="letter_leave"),
        path("letter/read", letter_views.read, name="letter_read"),
        path("letter/add", letter_views.add, name="letter_add"),
        path("feedback", feedback_views.give, name="feedback"),
        path("console/letters/", include("haven.letters.urls")),
        path("console/canned/", include("haven.canned.urls")),
        path("console/referrals/", include("haven.referrals.urls")),
        # Under /console/ so that the staff middleware guards these pages too.
        path("console/cases/", include("haven.cases.urls")),
        path("console/reports/", include("haven.reports.urls")),
        path("console/estimates/", include("haven.estimation.urls")),
        path("console/", include("haven.chat.urls")),
        prefix_default_language=False,
    ),
]
