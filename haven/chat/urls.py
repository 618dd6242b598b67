from django.contrib.auth import views as auth_views
from django.urls import path

from haven.accounts import views as account_views
from haven.chat import views

app_name = "console"

urlpatterns = [
    path("", views.console_home, name="home"),
    path("colleagues/", views.colleagues, name="colleagues"),
    path("danger-words/", views.danger_terms, name="danger_terms"),
    path("login/", account_views.StaffLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", account_views.verify, name="verify"),
    path("two-factor/setup/", account_views.enrol, name="enrol"),
    path("sign-out-everywhere/", account_views.sign_out_everywhere, name="sign_out_everywhere"),
]
