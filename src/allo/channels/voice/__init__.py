"""Web voice media: aiortc peer connections, the per-call switchboard, prompts, recording."""
