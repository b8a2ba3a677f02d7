"""A real `allo demo` server process and a real headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("ALLO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DOCS = Path(__file__).parents[2] / "docs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    smtp_port: int = 0


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120  # the demo seeds and analyses conversations first
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("demo")
    port = free_port()
    log = folder / "server.log"
    command = [
        sys.executable,
        "-m",
        "allo",
        "demo",
        "--db",
        str(folder / "demo.sqlite"),
        "--port",
        str(port),
        "--no-bots",
    ]
    # The mail worker listens on a free port; outbound mail goes to a port nobody serves
    # (replies stay queued, which the desk shows).
    smtp_port = free_port()
    env = {
        **os.environ,
        "ALLO_RUN_MAIL": "true",
        "ALLO_SMTP_LISTEN_PORT": str(smtp_port),
        "ALLO_SMTP_OUT_PORT": str(free_port()),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        yield Server(url, process, log, smtp_port)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """One Playwright for the session: a second sync_playwright() cannot start beside it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[object]:
    # Playwright gives every launch a fresh, empty profile directory of its own.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


FAKE_MIC_SENTENCE = (
    "Bonjour, j'appelle au sujet de ma facture du mois dernier. "
    "Le montant me semble trop élevé, pouvez-vous vérifier ma consommation ?"
)


@pytest.fixture(scope="session")
def fake_mic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A French sentence spoken by espeak-ng, followed by a pause, as the fake microphone."""
    import shutil

    import numpy as np

    from allo.channels.voice.audio import RATE, read_wav, silence, write_wav

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng missing (scripts/install-system-deps.sh installs it)")
    folder = tmp_path_factory.mktemp("mic")
    spoken = folder / "spoken.wav"
    subprocess.run([espeak, "-v", "fr", "-w", str(spoken), FAKE_MIC_SENTENCE], check=True)
    samples = np.concatenate([read_wav(spoken), silence(RATE)])
    path = folder / "mic.wav"
    write_wav(path, samples, RATE)
    return path


@pytest.fixture(scope="session")
def mic_browser(playwright: Any, fake_mic: Path) -> Iterator[object]:
    """A second Chromium whose microphone plays `fake_mic` (in a loop), permission granted."""
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fake_mic}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield browser
    browser.close()
