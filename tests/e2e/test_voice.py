"""A web call from the widget to a logged-in adviser, through Allo's media service, recorded."""

from __future__ import annotations

import io
import time
import wave
from typing import Any

import numpy as np
from tests.e2e.conftest import Server
from tests.e2e.test_chat import admin_api, login

from allo.channels.voice.audio import read_wav

ALWAYS_OPEN = {
    "timezone": "Europe/Paris",
    "weekly": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}
STATS = """async (pc) => {
  let bytes = 0, energy = 0;
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      bytes += s.bytesReceived || 0; energy += s.totalAudioEnergy || 0;
    }
  });
  return [bytes, energy];
}"""
CUSTOMER_PC = "window.alloCall.pc"
ADVISER_PC = "[...window.alloPhones.values()][0].pc"


def stats(page: Any, pc: str) -> tuple[int, float]:
    bytes_, energy = page.evaluate(f"() => ({STATS})({pc})")
    return int(bytes_), float(energy)


def wait_for(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    step = rate // 50
    frames = samples[: len(samples) // step * step].astype(np.float64).reshape(-1, step)
    return np.sqrt((frames**2).mean(axis=1))


def best_correlation(source: np.ndarray, heard: np.ndarray) -> float:
    """Max Pearson correlation of the heard envelope with the (looped) source envelope."""
    looped = np.tile(source, len(heard) // len(source) + 2)
    best = 0.0
    for lag in range(len(source)):
        window = looped[lag : lag + len(heard)]
        best = max(best, float(np.corrcoef(window, heard)[0, 1]))
    return best


def test_call_from_the_widget_to_the_desk(
    mic_browser: Any, demo_server: Server, fake_mic: Any
) -> None:
    with admin_api(demo_server) as api:
        queue = next(
            q for q in api.get("/api/v1/queues").json()["items"] if q["name"] == "Facturation"
        )
        csrf = api.cookies.get("allo_csrf") or ""
        patched = api.patch(
            f"/api/v1/queues/{queue['id']}",
            json={"opening_hours": ALWAYS_OPEN, "recording": True},
            headers={"X-CSRF-Token": csrf},
        )
        assert patched.status_code == 200, patched.text
    adviser = login(mic_browser, demo_server, "conseiller.paris@demo.allo.test", "/desk")
    adviser.select_option("#state", "ready")
    adviser.wait_for_timeout(300)

    shop = mic_browser.new_context(locale="fr-FR").new_page()
    shop.goto(f"{demo_server.url}/demo/shop")
    shop.click("#allo-launcher")
    shop.fill("#allo-name", "Jeanne Appel")
    shop.select_option("#allo-topic", label="Facturation")
    shop.click("#allo-call")
    shop.wait_for_selector("#allo-in-call")
    # The welcome prompt reaches the caller before anyone answers.
    wait_for(lambda: shop.evaluate("Boolean(window.alloCall && window.alloCall.token)"))
    wait_for(lambda: stats(shop, CUSTOMER_PC)[1] > 0.01)

    adviser.wait_for_selector("#offer:not([hidden])", timeout=15_000)
    adviser.click("#offer-accept")
    adviser.wait_for_selector(".phone:not([hidden])")
    wait_for(lambda: adviser.evaluate("window.alloPhones.size") == 1)
    # Audio both ways: the adviser hears the caller's sentence, the caller the adviser.
    wait_for(lambda: stats(adviser, ADVISER_PC)[1] > 0.05, timeout=30)
    before = stats(shop, CUSTOMER_PC)
    adviser.wait_for_timeout(2000)
    assert stats(shop, CUSTOMER_PC)[0] > before[0]
    assert stats(adviser, ADVISER_PC)[0] > 0

    # The card number part: recording paused for 2 s, then resumed.
    adviser.click(".phone-pause")
    adviser.wait_for_timeout(2000)
    adviser.click(".phone-pause")
    adviser.wait_for_timeout(6000)
    adviser.click(".phone-hangup")
    shop.wait_for_function(
        "document.querySelector('#allo-call-status').textContent.includes('terminé')"
    )
    adviser.select_option(".wrap select[name=wrap_code]", "facture-expliquee")
    adviser.click(".wrap button[type=submit]")
    adviser.wait_for_selector(".pane", state="detached")

    with admin_api(demo_server) as api:
        events = api.get("/api/v1/events", params={"limit": 1000}).json()["events"]
        stored = [e for e in events if e["type"] == "recording.stored"]
        assert len(stored) == 1
        contact = stored[0]["subject_id"]
        recordings = api.get(f"/api/v1/contacts/{contact}/recordings").json()
        assert len(recordings) == 1
        recording = recordings[0]
        assert 8 < recording["duration_seconds"] < 40
        [[start, end]] = recording["paused_spans"]
        assert 1.5 < end - start < 3.0
        audio = api.get(f"/api/v1/recordings/{recording['id']}/audio")
        assert audio.status_code == 200
        audits = api.get("/api/v1/audit", params={"limit": 1000}).json()
        played = [a for a in audits["entries"] if a["action"] == "recording.played"]
        assert played
    with wave.open(io.BytesIO(audio.content)) as wav:
        rate = wav.getframerate()
        stereo = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).reshape(-1, 2)
    caller = stereo[:, 0]
    paused = caller[int((start + 0.05) * rate) : int((end - 0.05) * rate)]
    assert np.abs(paused).max() == 0
    heard = caller[int((end + 0.5) * rate) :]
    source = read_wav(fake_mic)
    correlation = best_correlation(envelope(source, 48_000), envelope(heard, rate))
    print("caller envelope correlation", correlation)
    assert correlation > 0.8
    shop.context.close()
    adviser.select_option("#state", "logged_out")
    adviser.context.close()
