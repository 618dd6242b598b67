from channels.auth import AuthMiddlewareStack
from django.urls import path

from haven.chat import consumers

websocket_urlpatterns = [
    # Anonymous: no cookie is read, no session or user looked up.
    path("ws/visitor/", consumers.VisitorConsumer.as_asgi()),
    # Staff: the session cookie, the user and its second factor.
    path("ws/console/", AuthMiddlewareStack(consumers.CounsellorConsumer.as_asgi())),
]
