"""A Wyoming client made of the official library (wyoming, as Home Assistant uses it), for the tests.

python wyoming_client.py PORT 'JSON'  prints one JSON object: what the server answered.

The JSON names an action:
  {"do": "describe"}                                      -> {"info": <Info, parsed and dumped>}
  {"do": "transcribe", "wav": PATH, "chunk": BYTES}       -> {"events": [...], "text": ...}
  {"do": "synthesize", "text": T, "pcm": PATH}            -> {"events": [...], "format": {...}, "first_chunk_ms": ...}
  {"do": "stream", "chunks": [T, ...], "pcm": PATH}       -> the same, for synthesize-start/-chunk/-stop
  {"do": "handle", "text": T}                             -> {"events": [...], "text": ..., "context": ...}
  {"do": "many", "clients": N, "texts": [T, ...]}         -> {"answers": [...]}: N clients at once, each its own text
events lists the type of every event received, in order; audio goes to the PCM file (s16le).
"""

import asyncio
import dataclasses
import json
import sys
import time
import wave

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped

TIMEOUT = 60  # seconds for each event: a server that never answers fails the test instead of hanging it


async def read_until(client, done):
    """Events until one for which done(event) is true (or an error); their types, and the events."""
    events = []
    while True:
        event = await client.read_event()
        if event is None:
            events.append(None)
            return events
        events.append(event)
        if Error.is_type(event.type) or done(event):
            return events


def types(events):
    return [e.type if e is not None else "closed" for e in events]


def error_of(events):
    for e in events:
        if e is not None and Error.is_type(e.type):
            err = Error.from_event(e)
            return {"text": err.text, "code": err.code}
    return None


async def describe(client, _):
    await client.write_event(Describe().event())
    events = await read_until(client, lambda e: Info.is_type(e.type))
    info = Info.from_event(events[-1])
    return {"info": dataclasses.asdict(info), "events": types(events)}


async def transcribe(client, cmd):
    with wave.open(cmd["wav"], "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        audio = wav.readframes(wav.getnframes())
    await client.write_event(Transcribe(language=cmd.get("language")).event())
    await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
    chunk = cmd["chunk"]
    for i in range(0, len(audio), chunk):
        await client.write_event(AudioChunk(rate=rate, width=width, channels=channels, audio=audio[i : i + chunk]).event())
    await client.write_event(AudioStop().event())
    events = await read_until(client, lambda e: Transcript.is_type(e.type))
    last = events[-1]
    text = Transcript.from_event(last).text if last is not None and Transcript.is_type(last.type) else None
    return {"events": types(events), "text": text, "error": error_of(events)}


async def synthesized(client, cmd, sent, done):
    """Reads the audio of a synthesis into cmd["pcm"]: event types, format, ms to the first chunk."""
    events = await read_until(client, done)
    audio, fmt = bytearray(), None
    for e in events:
        if e is not None and AudioChunk.is_type(e.type):
            chunk = AudioChunk.from_event(e)
            fmt = fmt or {"rate": chunk.rate, "width": chunk.width, "channels": chunk.channels}
            audio += chunk.audio
    first = getattr(client, "first_chunk_at", None)
    if cmd.get("pcm"):
        with open(cmd["pcm"], "wb") as f:
            f.write(audio)
    return {"events": types(events), "format": fmt, "bytes": len(audio), "first_chunk_ms": None if first is None else (first - sent) * 1000, "error": error_of(events)}


class TimedClient(AsyncTcpClient):
    """Notes when the first audio-chunk arrived (the figure the bench compares)."""

    async def read_event(self):
        event = await super().read_event()
        if event is not None and AudioChunk.is_type(event.type) and not hasattr(self, "first_chunk_at"):
            self.first_chunk_at = time.perf_counter()
        return event


async def synthesize(client, cmd):
    sent = time.perf_counter()
    await client.write_event(Synthesize(text=cmd["text"]).event())
    return await synthesized(client, cmd, sent, lambda e: AudioStop.is_type(e.type))


async def stream(client, cmd):
    sent = time.perf_counter()
    # What Home Assistant sends for a streamed reply: the chunks, then the whole text for older servers, then stop.
    await client.write_event(SynthesizeStart().event())
    for text in cmd["chunks"]:
        await client.write_event(SynthesizeChunk(text=text).event())
    await client.write_event(Synthesize(text="".join(cmd["chunks"])).event())
    await client.write_event(SynthesizeStop().event())
    return await synthesized(client, cmd, sent, lambda e: SynthesizeStopped.is_type(e.type))


async def handle(client, cmd):
    await client.write_event(Transcript(text=cmd["text"], context=cmd.get("context")).event())
    events = await read_until(client, lambda e: Handled.is_type(e.type) or NotHandled.is_type(e.type))
    last = events[-1]
    answer = Handled.from_event(last) if last is not None and Handled.is_type(last.type) else NotHandled.from_event(last) if last is not None and NotHandled.is_type(last.type) else None
    return {"events": types(events), "text": answer.text if answer else None, "context": answer.context if answer else None, "error": error_of(events)}


ACTIONS = {"describe": describe, "transcribe": transcribe, "synthesize": synthesize, "stream": stream, "handle": handle}


async def one(port, cmd):
    async with TimedClient("127.0.0.1", port, connect_timeout=TIMEOUT, read_timeout=TIMEOUT) as client:
        return await ACTIONS[cmd["do"]](client, cmd)


async def many(port, cmd):
    texts = cmd["texts"]
    jobs = [one(port, {"do": cmd["each"], "text": texts[i % len(texts)]}) for i in range(cmd["clients"])]
    return {"answers": await asyncio.gather(*jobs, return_exceptions=False)}


def main():
    port, cmd = int(sys.argv[1]), json.loads(sys.argv[2])
    result = asyncio.run(many(port, cmd) if cmd["do"] == "many" else one(port, cmd))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
