"""Reference for lib/turn: pipecat's own Smart Turn v3 input and output on a WAV file.

Usage: smart_turn_reference.py <16 kHz mono WAV> <start sample> <end sample> [model.onnx]
Writes the 80 x 800 float32 features (raw, little-endian) to stdout, then, with a model,
the probability of "complete" as 4 more bytes. The feature code is pipecat's
_whisper_features.py, loaded by path (pipecat's package __init__ needs its full
dependencies, which the test virtualenv does not install: pip install --no-deps pipecat-ai);
the 8 s window (keep the end, zero-pad the start) is local_smart_turn_v3.py's.
"""
import importlib.util
import os
import sys
import wave

import numpy as np

pipecat = importlib.util.find_spec("pipecat").submodule_search_locations[0]
spec = importlib.util.spec_from_file_location("whisper_features", os.path.join(pipecat, "audio/turn/smart_turn/_whisper_features.py"))
features = importlib.util.module_from_spec(spec)
spec.loader.exec_module(features)

path, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with wave.open(path) as w:
    audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
audio = audio[start:end]
n = 8 * 16000
audio = audio[-n:] if len(audio) > n else np.pad(audio, (n - len(audio), 0))
mel = features.compute_whisper_log_mel_features(audio, do_normalize=True)
sys.stdout.buffer.write(mel.astype("<f4").tobytes())
if len(sys.argv) > 4:
    import onnxruntime as ort

    # As lib/turn/smart-turn.ts runs it: the exact int8 path on AVX2-only CPUs (see there).
    options = ort.SessionOptions()
    options.add_session_config_entry("session.x64quantprecision", "1")
    session = ort.InferenceSession(sys.argv[4], options)
    probability = session.run(None, {"input_features": mel[np.newaxis]})[0]
    sys.stdout.buffer.write(np.asarray(probability, dtype="<f4").reshape(-1)[:1].tobytes())
