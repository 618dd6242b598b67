"""ASGI entry point: HTTP through Django, WebSockets through Channels.

The outermost layer strips the client address, so no part of Haven can store or log it.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from haven.chat.routing import websocket_urlpatterns  # noqa: E402
from haven.core.asgi_privacy import StripClientAddress  # noqa: E402

application = StripClientAddress(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)
