"""Ringback melody previews: a tune written as notes becomes a small WAV, drawn on the server.

"E5:2 D#5:1 R:1" is E in the fifth octave for two eighths, D sharp for one, a rest for one.
8 kHz, 8-bit mono: a 10-second preview is 80 KB, played only when the customer presses play.
"""
import io
import math
import re
import wave

RATE = 8000
EIGHTH_S = 0.2
MAX_SECONDS = 12
NOTE = re.compile(r"^(?P<name>[A-G]#?|R)(?P<octave>\d)?:(?P<eighths>\d{1,2})$")
SEMITONES = {"C": 0, "C#": 1, "D": 2, "D#": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "G#": 8, "A": 9, "A#": 10, "B": 11}


class BadTune(ValueError):
    pass


def parse(tune: str) -> list[tuple[float | None, float]]:
    """[(frequency in Hz or None for a rest, seconds)]; BadTune names the first note it cannot read."""
    notes = []
    for token in tune.split():
        match = NOTE.match(token)
        if not match or (match["name"] != "R" and match["octave"] is None):
            raise BadTune(f"cannot read the note {token[:12]!r}")
        seconds = int(match["eighths"]) * EIGHTH_S
        if match["name"] == "R":
            notes.append((None, seconds))
            continue
        midi = 12 * (int(match["octave"]) + 1) + SEMITONES[match["name"]]
        notes.append((440.0 * 2 ** ((midi - 69) / 12), seconds))
    return notes


def render_wav(tune: str) -> bytes:
    """The tune as a WAV file (cut at MAX_SECONDS)."""
    samples = bytearray()
    fade = int(RATE * 0.01)
    for frequency, seconds in parse(tune):
        count = int(RATE * seconds)
        if len(samples) + count > RATE * MAX_SECONDS:
            break
        if frequency is None:
            samples.extend(b"\x80" * count)
            continue
        step = 2 * math.pi * frequency / RATE
        for i in range(count):
            envelope = min(1.0, i / fade, (count - i) / (fade * 4))  # no clicks at the edges
            samples.append(128 + int(90 * envelope * math.sin(step * i)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(RATE)
        wav.writeframes(bytes(samples))
    return out.getvalue()
