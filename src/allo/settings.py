"""Settings from the environment (ALLO_*) or a .env file; read only by the outer layers."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALLO_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///allo.sqlite"
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs nothing secret-bearing by itself (sessions are server-side), but salts CSRF tokens.
    secret_key: str = "change-me-in-production"
    cookie_secure: bool = True
    session_hours: int = 12
    default_language: str = "fr"
    # Run the live router inside this server process (one active router per tenant is
    # still guaranteed by a lock; set false when routers run as `allo router`).
    run_router: bool = True
    # Simulated customers and advisers for `allo demo` (never in production).
    demo_bots: bool = False
    # Public chat: new chats and messages per minute from one address (abuse protection).
    chat_starts_per_minute: int = 20
    chat_messages_per_minute: int = 240


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
