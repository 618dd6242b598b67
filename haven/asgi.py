"""ASGI entry point: HTTP through Django, WebSockets through Channels.

The outermost layer strips the client address, so no part of Haven can store or log it.
Each worker also runs a few background tasks (haven.core.lifespan): sharing the abuse
counts through Redis, and letting waiting visitors who left go from the queue.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from haven.chat import selectors as chat_selectors  # noqa: E402
from haven.chat import services as chat_services  # noqa: E402
from haven.chat.models import Conversation  # noqa: E402
from haven.chat.routing import websocket_urlpatterns  # noqa: E402
from haven.core import abuse, db  # noqa: E402
from haven.core.asgi_privacy import StripClientAddress  # noqa: E402
from haven.core.lifespan import Lifespan, every  # noqa: E402


async def _end_absent() -> None:
    """Waiting conversations whose visitor left: every worker looks (a dead worker's
    visitors are found by the others)."""
    for conversation_id in await db.read(chat_selectors.absent_waiting):
        await db.write(
            chat_services.conversation_end_if_absent,
            conversation_id=conversation_id,
            lock=(Conversation, conversation_id),
        )


application = Lifespan(
    StripClientAddress(
        ProtocolTypeRouter(
            {
                "http": django_asgi_app,
                "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
            }
        )
    ),
    tasks=[
        every(lambda: 1.0, abuse.exchange, "Sharing the abuse limits through Redis"),
        every(
            lambda: settings.HAVEN_PRESENCE_HEARTBEAT_SECONDS,
            _end_absent,
            "Ending waiting conversations whose visitor left",
        ),
    ],
)
