"""The official Piper (piper-tts) as a reference for piper-tts's conformance test.

Usage: python piper_reference.py <voice.onnx> <out dir>  with a JSON list of texts on stdin.
       python piper_reference.py --time <voice.onnx> <runs> [threads]  with one text on stdin.

For each text, Piper's own API does the work (PiperVoice.phonemize, phonemes_to_ids,
synthesize): this script only calls it and reports. It prints one JSON document:
  {"piper": <piper-tts version>, "texts": [{"text", "wav", "sentences": [{"phonemes", "ids", "samples"}]}]}
and writes <out dir>/<n>.wav (16-bit mono, the sentences back to back, no silence between).

Synthesis is deterministic (noise_scale = noise_w = 0, length_scale from the voice) and
not normalised (Piper's default scales each sentence to full range; piper-tts does not):
the raw model output is what both implementations should share.
Missing phonemes are logged by Piper itself ("Missing phoneme from id map") on stderr.

With --time (for bench/tts.ts), Piper speaks the text `runs` times after one warm-up, with
its default synthesis settings, and prints {"piper", "threads", "first_audio_ms": [...],
"rtf": [...]}: from the synthesize() call to its first sentence's audio (phonemes included),
and the whole synthesis over the audio's length. `threads` sets onnxruntime's intra-op threads
(the session rebuilt on the same model with Piper's own provider); without it, Piper's default.
"""

import json
import logging
import sys
import time
import wave
from importlib.metadata import version
from pathlib import Path

import numpy as np
from piper import PiperVoice, SynthesisConfig

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def timing(voice_path: str, runs: int, threads: int | None) -> None:
    import onnxruntime

    text = sys.stdin.read()
    voice = PiperVoice.load(voice_path)
    if threads:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        voice.session = onnxruntime.InferenceSession(voice_path, sess_options=options, providers=["CPUExecutionProvider"])
    first_ms, rtf = [], []
    for run in range(runs + 1):
        t0 = time.perf_counter()
        first = None
        samples = 0
        for chunk in voice.synthesize(text):
            first = first or time.perf_counter()
            samples += np.size(chunk.audio_float_array)
        total = time.perf_counter() - t0
        if run == 0:
            continue  # warm-up
        first_ms.append((first - t0) * 1000)
        rtf.append(total / (samples / voice.config.sample_rate))
    used = voice.session.get_session_options().intra_op_num_threads
    json.dump({"piper": version("piper-tts"), "threads": used, "first_audio_ms": first_ms, "rtf": rtf}, sys.stdout)


def main() -> None:
    if sys.argv[1] == "--time":
        timing(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else None)
        return
    voice_path, out_dir = sys.argv[1], Path(sys.argv[2])
    texts = json.load(sys.stdin)
    out_dir.mkdir(parents=True, exist_ok=True)
    voice = PiperVoice.load(voice_path)
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)
    results = []
    for n, text in enumerate(texts):
        wav_path = out_dir / f"{n}.wav"
        sentences = []
        with wave.open(str(wav_path), "wb") as wav:
            wav.setframerate(voice.config.sample_rate)
            wav.setsampwidth(2)
            wav.setnchannels(1)
            for chunk in voice.synthesize(text, config):
                wav.writeframes(chunk.audio_int16_bytes)
                sentences.append(
                    {
                        "phonemes": "".join(chunk.phonemes),
                        "ids": [int(i) for i in chunk.phoneme_ids],
                        "samples": int(np.size(chunk.audio_float_array)),
                    }
                )
        results.append({"text": text, "wav": str(wav_path), "sentences": sentences})
    json.dump({"piper": version("piper-tts"), "texts": results}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
