from django.contrib.auth import views as auth_views
from django.urls import path

from haven.chat import views

app_name = "console"

urlpatterns = [
    path("", views.console_home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="chat/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
