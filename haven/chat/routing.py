from django.urls import path

from haven.accounts.middleware import ConsoleSocketAuth
from haven.chat import consumers

websocket_urlpatterns = [
    # Anonymous: no cookie is read, no session or user looked up.
    path("ws/visitor/", consumers.VisitorConsumer.as_asgi()),
    # Staff: the session cookie, the user and its second factor.
    path("ws/console/", ConsoleSocketAuth(consumers.CounsellorConsumer.as_asgi())),  # type: ignore[arg-type]
]
