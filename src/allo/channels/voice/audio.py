"""Audio as the media service handles it: 48 kHz mono int16, in 20 ms chunks of 960 samples.

Prompts are made from text on this machine (espeak-ng, a Debian package) at first use and
kept in a cache folder; without espeak-ng a short NumPy chime stands in. Nothing is fetched.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

RATE = 48_000
CHUNK = 960  # 20 ms
Samples = NDArray[np.int16]
log = logging.getLogger(__name__)
VOICES = {"fr": "fr", "en": "en"}


def silence(samples: int = CHUNK) -> Samples:
    return np.zeros(samples, dtype=np.int16)


def resample(samples: NDArray[np.float64], rate: int, target: int = RATE) -> NDArray[np.float64]:
    """Linear interpolation: good enough for speech prompts made at 22 kHz."""
    if rate == target or len(samples) == 0:
        return samples
    length = round(len(samples) * target / rate)
    positions = np.linspace(0, len(samples) - 1, length)
    return np.interp(positions, np.arange(len(samples)), samples)


def read_wav(path: Path) -> Samples:
    """A mono or stereo 16-bit WAV file as 48 kHz mono samples."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path.name}: only 16-bit WAV prompts are supported")
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        channels, rate = wav.getnchannels(), wav.getframerate()
    mono = raw.reshape(-1, channels).mean(axis=1)
    return np.clip(resample(mono, rate), -32768, 32767).astype(np.int16)


def write_wav(path: Path, samples: NDArray[np.int16], rate: int, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype(np.int16).tobytes())


def chime(seconds: float = 1.2) -> Samples:
    """Two soft notes: the stand-in for a spoken prompt when no speech synthesiser exists."""
    half = int(RATE * seconds / 2)
    t = np.arange(half) / RATE
    notes = [np.sin(2 * np.pi * f * t) * np.hanning(half) for f in (660.0, 880.0)]
    return (np.concatenate(notes) * 6000).astype(np.int16)


def hold_music(seconds: float = 8.0) -> Samples:
    """A calm arpeggio looped while the caller waits or is on hold (synthesised, no file)."""
    notes = [261.63, 329.63, 392.0, 523.25, 392.0, 329.63]
    length = int(RATE * seconds / len(notes))
    t = np.arange(length) / RATE
    envelope = np.exp(-3 * t / (seconds / len(notes)))
    parts = [
        (np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)) * envelope for f in notes
    ]
    return (np.concatenate(parts) * 3000).astype(np.int16)


def speak(text: str, language: str, cache: Path) -> Samples:
    """The text spoken in the language, from the cache or made once with espeak-ng."""
    voice = VOICES.get(language, "fr")
    name = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:24]
    path = cache / f"{name}.wav"
    if not path.exists():
        espeak = shutil.which("espeak-ng")
        if espeak is None:
            log.warning(
                "espeak-ng is not installed: prompts are chimes (apt-get install espeak-ng)"
            )
            return chime()
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.wav")
        subprocess.run(
            [espeak, "-v", voice, "-s", "155", "-w", str(partial), text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        partial.replace(path)
    return read_wav(path)


def chunks(samples: Samples) -> list[Samples]:
    """20 ms chunks, the last one padded with silence."""
    padded = np.concatenate([samples, silence((-len(samples)) % CHUNK)])
    return [padded[i : i + CHUNK] for i in range(0, len(padded), CHUNK)]


def energy(chunk: Samples) -> float:
    return float(np.sqrt(np.mean(chunk.astype(np.float64) ** 2))) if len(chunk) else 0.0
