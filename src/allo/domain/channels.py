"""Channels a contact arrives on."""

from enum import StrEnum


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    CALLBACK = "callback"


# A reasonable adviser: one call at a time, three chats, five emails, one callback.
DEFAULT_CAPACITY: dict[Channel, int] = {
    Channel.VOICE: 1,
    Channel.CHAT: 3,
    Channel.EMAIL: 5,
    Channel.CALLBACK: 1,
}
