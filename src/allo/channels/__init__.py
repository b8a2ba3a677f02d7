"""Channels: the transports customers reach Allo by (email today; chat, voice, callback)."""
