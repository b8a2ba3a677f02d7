"""Stand-ins on loopback: the customer's mail provider (a real aiosmtpd SMTP server) and a
small IMAP server (no real IMAP server is installed here; this speaks just enough IMAP4rev1
for imaplib: CAPABILITY, LOGIN, SELECT, UID SEARCH/FETCH/STORE, LOGOUT)."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Provider:
    """Collects what Allo sends, as the customer's mail provider would receive it."""

    port: int = field(default_factory=free_port)
    inbox: list[Delivered] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.inbox.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivered]:
        return wait_until(lambda: self.inbox if len(self.inbox) >= count else None, timeout)


def start_provider() -> tuple[Provider, Controller]:
    provider = Provider()
    controller = Controller(provider, hostname="127.0.0.1", port=provider.port)
    controller.start()
    return provider, controller


def stop_controller(controller: Controller) -> None:
    controller.stop()
    controller.loop.close()


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out")


class FakeImap(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ImapSession)
        self.messages: dict[int, bytes] = {}
        self.seen: set[int] = set()
        self.logins: list[tuple[str, str]] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port

    def __enter__(self) -> FakeImap:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


class _ImapSession(socketserver.StreamRequestHandler):
    server: FakeImap

    def send(self, line: str | bytes) -> None:
        self.wfile.write(line if isinstance(line, bytes) else line.encode() + b"\r\n")

    def handle(self) -> None:
        self.send("* OK fake IMAP4rev1 ready")
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            if not line:
                return
            tag, command, *rest = line.split(" ", 2)
            args = rest[0] if rest else ""
            if not self.dispatch(tag, command.upper(), args):
                return

    def dispatch(self, tag: str, command: str, args: str) -> bool:
        store = self.server
        if command == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1")
        elif command == "LOGIN":
            user, password = args.split(" ", 1)
            store.logins.append((user, password.strip('"')))
        elif command == "SELECT":
            self.send(f"* {len(store.messages)} EXISTS")
            self.send(f"{tag} OK [READ-WRITE] selected")
            return True
        elif command == "UID":
            self.uid(args)
        elif command == "LOGOUT":
            self.send("* BYE")
            self.send(f"{tag} OK bye")
            return False
        self.send(f"{tag} OK done")
        return True

    def uid(self, args: str) -> None:
        store = self.server
        verb, _, rest = args.partition(" ")
        if verb.upper() == "SEARCH":
            unseen = [str(u) for u in sorted(store.messages) if u not in store.seen]
            self.send("* SEARCH " + " ".join(unseen))
        elif verb.upper() == "FETCH":
            uid = int(rest.split(" ")[0])
            raw = store.messages[uid]
            self.send(f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}".encode() + b"\r\n")
            self.send(raw + b")\r\n")
        elif verb.upper() == "STORE":
            uid = int(rest.split(" ")[0])
            if re.search(r"\\Seen", rest):
                store.seen.add(uid)
            self.send(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))")
