"""Settings from the environment (ALLO_*) or a .env file; read only by the outer layers."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr
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
    # One log line per HTTP request on stderr; off when a reverse proxy keeps the access log.
    access_log: bool = True
    # Threads running request handlers (database work) beside the event loop; few on
    # purpose (see realtime/runtime.py). Unset: 1 on SQLite, 4 on PostgreSQL.
    request_threads: int | None = None

    def request_thread_count(self) -> int:
        """SQLite takes one writer at a time, so more threads only wait for its lock and the
        interpreter's; PostgreSQL overlaps the round trips of a few."""
        if self.request_threads is not None:
            return max(1, self.request_threads)
        return 1 if self.database_url.startswith("sqlite") else 4

    # Run the live router inside this server process (one active router per tenant is
    # still guaranteed by a lock; set false when routers run as `allo router`).
    run_router: bool = True
    # Simulated customers and advisers for `allo demo` (never in production).
    demo_bots: bool = False
    # Read conversations (redaction, intent, topics) in this process; set false when
    # `allo insights` runs them in a process of its own, off the live path.
    run_insights: bool = True
    # Public chat: new chats and messages per minute from one address (abuse protection).
    chat_starts_per_minute: int = 20
    chat_messages_per_minute: int = 240

    # Web voice (docs/voice.md). Recordings and the prompts made from text live under data_dir.
    data_dir: str = "allo-data"
    # ICE servers given to aiortc and to browsers, e.g. ["turn:turn.example.com:3478"]; none
    # on a LAN or loopback. TURN credentials are shared by every call (long-term ones).
    voice_ice_urls: list[str] = []
    voice_ice_username: str = ""
    voice_ice_credential: SecretStr = SecretStr("")
    recording_purge_seconds: float = 3600.0

    # Email (docs/email.md). Inbound SMTP listener, run by `allo mail` (or inside `allo
    # serve` with run_mail): mail for the addresses of email_mailboxes is accepted.
    run_mail: bool = False
    smtp_listen_host: str = "127.0.0.1"
    smtp_listen_port: int = 2525
    mail_max_bytes: int = 25 * 1024 * 1024  # larger messages are refused with SMTP 552
    mail_max_recipients: int = 50
    mail_attachment_max_bytes: int = 10 * 1024 * 1024  # larger parts stay in the raw only
    mail_body_max_bytes: int = 256 * 1024  # text shown in the conversation; raw keeps all
    mail_acks_per_sender_per_day: int = 3
    # Outbound: every reply and acknowledgement goes through this SMTP server.
    smtp_out_host: str = "127.0.0.1"
    smtp_out_port: int = 25
    smtp_out_user: str = ""
    smtp_out_password: SecretStr = SecretStr("")
    smtp_out_starttls: bool = False
    smtp_out_ssl: bool = False
    smtp_out_timeout: float = 30.0
    smtp_out_max_attempts: int = 8
    # IMAP polling, the alternative to the listener for an existing mailbox (off if no host).
    imap_host: str = ""
    imap_port: int = 993
    imap_ssl: bool = True
    imap_user: str = ""
    imap_password: SecretStr = SecretStr("")
    imap_folder: str = "INBOX"
    imap_address: str = ""  # the Allo mailbox address this mailbox receives for
    imap_poll_seconds: float = 60.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
