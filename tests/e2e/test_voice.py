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


def open_billing_with_recording(demo_server: Server) -> None:
    """The demo's "Facturation" queue, open at any hour and recording its calls."""
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


def test_call_from_the_widget_to_the_desk(
    mic_browser: Any, demo_server: Server, fake_mic: Any
) -> None:
    open_billing_with_recording(demo_server)
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


def energy_gain(page: Any, pc: str, seconds: float = 2.0) -> float:
    """How much audio energy the page received over the next `seconds` (a measurement)."""
    before = stats(page, pc)[1]
    page.wait_for_timeout(int(seconds * 1000))
    return stats(page, pc)[1] - before


def call_from_shop(browser: Any, server: Server) -> Any:
    shop = browser.new_context(locale="fr-FR").new_page()
    shop.goto(f"{server.url}/demo/shop")
    shop.click("#allo-launcher")
    shop.fill("#allo-name", "Paul Transfert")
    shop.select_option("#allo-topic", label="Facturation")
    shop.click("#allo-call")
    shop.wait_for_selector("#allo-in-call")
    wait_for(lambda: shop.evaluate("Boolean(window.alloCall && window.alloCall.token)"))
    return shop


def answer_offer(adviser: Any) -> None:
    adviser.wait_for_selector("#offer:not([hidden])", timeout=20_000)
    adviser.click("#offer-accept")
    adviser.wait_for_selector(".phone:not([hidden])")
    wait_for(lambda: adviser.evaluate("window.alloPhones.size") == 1)


def test_hold_mute_transfer_from_the_desk_listen_in_and_playback_from_the_wall(
    mic_browser: Any, demo_server: Server
) -> None:
    open_billing_with_recording(demo_server)
    paris = login(mic_browser, demo_server, "conseiller.paris@demo.allo.test", "/desk")
    rabat = login(mic_browser, demo_server, "conseiller.rabat@demo.allo.test", "/desk")
    rabat_id = rabat.evaluate(
        "fetch('/api/v1/desk').then((r) => r.json()).then((d) => d.adviser.id)"
    )
    paris.select_option("#state", "ready")
    shop = call_from_shop(mic_browser, demo_server)
    answer_offer(paris)
    wait_for(lambda: stats(paris, ADVISER_PC)[1] > 0.05, timeout=30)

    # Hold: the caller hears hold audio, the adviser silence.
    paris.click(".phone-hold")
    paris.wait_for_function(
        "document.querySelector('.phone-hold').textContent.includes('Reprendre')"
    )
    paris.wait_for_timeout(500)
    held_caller, held_adviser = energy_gain(shop, CUSTOMER_PC), energy_gain(paris, ADVISER_PC)
    print("on hold: caller", held_caller, "adviser", held_adviser)
    assert held_caller > 0.001  # the arpeggio (quiet, ~0.002 per 2 s)
    assert held_adviser < held_caller / 10
    paris.click(".phone-hold")
    wait_for(lambda: energy_gain(paris, ADVISER_PC, 1.0) > 0.001, timeout=20)
    # Mute: the adviser's microphone track is disabled, the caller hears nothing from it.
    paris.click(".phone-mute")
    paris.wait_for_timeout(500)
    muted = energy_gain(shop, CUSTOMER_PC)
    print("muted: caller", muted)
    assert muted < 0.0001
    paris.click(".phone-mute")
    wait_for(lambda: energy_gain(shop, CUSTOMER_PC, 1.0) > 0.001, timeout=20)

    # A supervisor listens in from the wall and hears the call; nobody hears them.
    wall = login(mic_browser, demo_server, "superviseur@demo.allo.test", "/wall")
    contact = shop.evaluate("window.alloCall.contactId")
    wall.wait_for_selector(f"#contacts tr[data-contact='{contact}'] .listen-in", timeout=20_000)
    wall.click(f"#contacts tr[data-contact='{contact}'] .listen-in")
    wall.wait_for_selector("#listening:not([hidden])")
    listen_pc = "window.alloListening().pc"
    wait_for(lambda: stats(wall, listen_pc)[1] > 0.01, timeout=30)
    wall.click("#listen-stop")

    # Blind transfer from the desk to the Rabat adviser by name: Rabat's desk rings, answers,
    # and hears the caller; Paris's softphone is gone.
    rabat.select_option("#state", "ready")
    paris.select_option(".transfer-target", f"adviser:{rabat_id}")
    paris.click(".transfer-blind")
    paris.wait_for_selector(".pane", state="detached", timeout=20_000)
    answer_offer(rabat)
    wait_for(lambda: stats(rabat, ADVISER_PC)[1] > 0.05, timeout=30)
    assert shop.evaluate(f"{CUSTOMER_PC}.connectionState") == "connected"
    rabat.wait_for_timeout(3000)
    rabat.click(".phone-hangup")
    rabat.select_option(".wrap select[name=wrap_code]", "facture-expliquee")
    rabat.click(".wrap button[type=submit]")
    rabat.wait_for_selector(".pane", state="detached")

    # Playback from the wall, audited.
    wall.reload()
    wall.wait_for_selector("[data-ready=true]")
    row = wall.wait_for_selector("#recordings tbody tr", timeout=20_000)
    recording = row.get_attribute("data-recording")
    wall.click(f"#recordings tr[data-recording='{recording}'] .play-recording")
    with admin_api(demo_server) as api:

        def audited() -> bool:
            entries = api.get("/api/v1/audit", params={"limit": 1000}).json()["entries"]
            return any(
                e["action"] == "recording.played"
                and str(e["subject_id"]) == recording
                and e["fields"].get("role") == "supervisor"
                for e in entries
            )

        wait_for(audited, timeout=20)
        events = api.get("/api/v1/events", params={"limit": 1000}).json()["events"]
        assert any(
            e["type"] == "contact.transferred" and e["subject_id"] == contact for e in events
        )
    for page in (shop, paris, rabat, wall):
        page.context.close()


def test_a_call_without_microphone_permission_shows_a_clear_message_and_creates_nothing(
    browser: Any, demo_server: Server
) -> None:
    with admin_api(demo_server) as api:
        before = api.get("/api/v1/contacts", params={"limit": 1}).json()["total"]
    shop = browser.new_context(locale="fr-FR", permissions=[]).new_page()
    shop.goto(f"{demo_server.url}/demo/shop")
    shop.click("#allo-launcher")
    shop.fill("#allo-name", "Sans Micro")
    shop.click("#allo-call")
    shop.wait_for_function("document.querySelector('.allo-error').textContent.includes('micro')")
    assert "Autorisez le micro" in shop.inner_text(".allo-error")
    assert shop.is_visible("#allo-start")  # still the form: no call UI left behind
    with admin_api(demo_server) as api:
        assert api.get("/api/v1/contacts", params={"limit": 1}).json()["total"] == before
    shop.context.close()
