"""The console's queue follows the server's changes in order, however late one arrives."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import WebSocketRoute, expect

from haven.chat.tests.browser.support import TIMEOUT, CounsellorUI

pytestmark = pytest.mark.browser

WAITING_SINCE = "2026-11-28T01:50:31.122417+00:00"


def _entry(conversation: str, *, seq: int, preview: str) -> dict[str, object]:
    return {
        "conversation": conversation,
        "waiting_since": WAITING_SINCE,
        "message_count": seq,
        "preview": preview,
        "seq": seq,
    }


def test_a_late_queue_entry_does_not_bring_back_a_conversation_that_left(
    counsellor: CounsellorUI,
) -> None:
    """Stand in for a server whose changes come from several processes: a conversation
    leaves the queue without a new message (as when the retention job ends it), then an
    older entry of it arrives late. The queue shows only the conversation still waiting."""
    gone, still = str(uuid.uuid4()), str(uuid.uuid4())

    def serve(ws: WebSocketRoute) -> None:
        frames = [
            {
                "type": "hello",
                "queue": [_entry(gone, seq=1, preview="marker-gone")],
                "conversations": [],
            },
            {"type": "queue_leave", "conversation": gone, "seq": 1},
            {"type": "queue_entry", "entry": _entry(gone, seq=1, preview="marker-gone")},
            {"type": "queue_entry", "entry": _entry(still, seq=0, preview="")},
            {"type": "queue_entry", "entry": _entry(still, seq=2, preview="marker-still")},
            {"type": "queue_entry", "entry": _entry(still, seq=1, preview="marker-older")},
        ]
        for frame in frames:
            ws.send(json.dumps(frame))

    page = counsellor.page
    page.route_web_socket(re.compile(r"/ws/console/"), serve)
    page.reload()
    expect(counsellor.queue_item("marker-still")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("#queue li.queue-item")).to_have_count(1)
    expect(counsellor.queue_item("marker-gone")).to_have_count(0)
