"""The official Piper (piper-tts) as a reference for piper-tts's conformance test.

Usage: python piper_reference.py <voice.onnx> <out dir>  with a JSON list of texts on stdin.

For each text, Piper's own API does the work (PiperVoice.phonemize, phonemes_to_ids,
synthesize): this script only calls it and reports. It prints one JSON document:
  {"piper": <piper-tts version>, "texts": [{"text", "wav", "sentences": [{"phonemes", "ids", "samples"}]}]}
and writes <out dir>/<n>.wav (16-bit mono, the sentences back to back, no silence between).

Synthesis is deterministic (noise_scale = noise_w = 0, length_scale from the voice) and
not normalised (Piper's default scales each sentence to full range; piper-tts does not):
the raw model output is what both implementations should share.
Missing phonemes are logged by Piper itself ("Missing phoneme from id map") on stderr.
"""

import json
import logging
import sys
import wave
from importlib.metadata import version
from pathlib import Path

import numpy as np
from piper import PiperVoice, SynthesisConfig

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def main() -> None:
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
