"""Who hears which event."""

from datetime import UTC, datetime

from allo.domain.events import Event
from allo.realtime.hub import topics_of

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_an_offer_reaches_the_wall_the_contact_and_the_adviser() -> None:
    event = Event("contact.offered", 1, "contact", 7, AT, {"adviser_id": 3})
    assert topics_of(event) == {"tenant:1:wall", "contact:7", "adviser:3"}


def test_a_chat_line_reaches_the_conversation_but_not_the_wall() -> None:
    event = Event("message.created", 1, "contact", 7, AT, {"handled_by": 3})
    assert topics_of(event) == {"contact:7", "adviser:3"}


def test_an_adviser_state_reaches_the_wall_and_that_adviser() -> None:
    event = Event("adviser.state_changed", 1, "adviser", 3, AT, {"to": "break"})
    assert topics_of(event) == {"tenant:1:wall", "adviser:3"}
