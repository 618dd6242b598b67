from django.urls import path

from haven.chat import consumers

websocket_urlpatterns = [
    path("ws/visitor/", consumers.VisitorConsumer.as_asgi()),
    path("ws/console/", consumers.CounsellorConsumer.as_asgi()),
]
