"""sherpa-onnx's Whisper files, from CTranslate2's vocabulary and our PyTorch modules:

  <name>-encoder.onnx, <name>-decoder.onnx   float32 graphs (inputs/outputs: see whisper_torch.py);
  <name>-encoder.int8.onnx, ...decoder.int8   the same with int8 MatMul weights (what the asr node loads);
  <name>-tokens.txt                            one "<base64 of the token's bytes> <id>" line per text token.

sherpa-onnx reads the model's settings from the encoder's metadata (offline-whisper-model.cc):
n_mels, n_text_layer, n_text_ctx, n_text_state, n_vocab, sot, eot, blank_id, translate,
transcribe, is_multilingual, no_timestamps, no_speech, sot_sequence, and for multilingual models
all_language_tokens and all_language_codes. It exits when one is missing.
"""
import base64
import os

import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from whisper_torch import Dims, WhisperDecoder, WhisperEncoder

OPSET = 17


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level BPE writes each byte as a printable character: printable Latin-1
    bytes stand for themselves, the others for the characters from U+0100 on, in byte order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


class Vocabulary:
    """CTranslate2's vocabulary.txt: one token a line, in id order; special tokens look like <|...|>."""

    def __init__(self, path: str):
        with open(path, encoding="utf-8") as f:
            self.tokens = f.read().split("\n")
        if self.tokens and self.tokens[-1] == "":
            self.tokens.pop()
        self.ids = {t: i for i, t in enumerate(self.tokens)}

    def id(self, *names: str) -> int:
        for name in names:
            if name in self.ids:
                return self.ids[name]
        raise ValueError(f"the vocabulary has no {' or '.join(names)}")

    def text_token_bytes(self) -> list[bytes]:
        """The bytes of every token before the first special one (<|endoftext|>)."""
        decode = _byte_decoder()
        return [bytes(decode[c] for c in t) for t in self.tokens[: self.id("<|endoftext|>")]]


def write_tokens(vocab: Vocabulary, path: str) -> None:
    with open(path, "w", encoding="ascii") as f:
        for i, raw in enumerate(vocab.text_token_bytes()):
            f.write(f"{base64.b64encode(raw).decode()} {i}\n")


def metadata(name: str, dims: Dims, vocab: Vocabulary, suppress_ids: list[int]) -> dict[str, str]:
    sot, translate = vocab.id("<|startoftranscript|>"), vocab.id("<|translate|>")
    languages = list(range(sot + 1, translate))
    multilingual = dims.n_vocab >= 51865  # Whisper's own rule: the English-only vocabulary is one shorter
    meta = {
        "model_type": f"whisper-{name}",
        "version": "1",
        "maintainer": "node-red-contrib-realtime-voice (converted from CTranslate2)",
        **{k: v for k, v in vars(dims).items()},
        # English-only models start with <|startoftranscript|> alone; the others name language and task.
        "sot_sequence": ",".join(map(str, [sot, languages[0], vocab.id("<|transcribe|>")] if multilingual else [sot])),
        "all_language_tokens": ",".join(map(str, languages)),
        "all_language_codes": ",".join(vocab.tokens[i][2:-2] for i in languages),
        "sot": sot,
        "sot_index": 0,
        "eot": vocab.id("<|endoftext|>"),
        "blank_id": vocab.id("Ġ"),
        "is_multilingual": int(multilingual),
        "no_speech": vocab.id("<|nospeech|>", "<|nocaptions|>"),
        "non_speech_tokens": ",".join(str(i) for i in suppress_ids if i < vocab.id("<|endoftext|>")),
        "transcribe": vocab.id("<|transcribe|>"),
        "translate": translate,
        "sot_prev": vocab.id("<|startofprev|>"),
        "sot_lm": vocab.id("<|startoflm|>"),
        "no_timestamps": vocab.id("<|notimestamps|>"),
    }
    return {k: str(v) for k, v in meta.items()}


def _add_metadata(path: str, meta: dict[str, str]) -> None:
    model = onnx.load(path)
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, path)


def export(encoder: WhisperEncoder, decoder: WhisperDecoder, dims: Dims, meta: dict[str, str], prefix: str) -> list[str]:
    """Writes <prefix>-encoder/decoder(.int8).onnx; returns their paths."""
    mel = torch.zeros(1, dims.n_mels, 2 * 200)
    enc_path, dec_path = f"{prefix}-encoder.onnx", f"{prefix}-decoder.onnx"
    with torch.no_grad():
        torch.onnx.export(
            encoder, (mel,), enc_path, dynamo=False, opset_version=OPSET,
            input_names=["mel"], output_names=["n_layer_cross_k", "n_layer_cross_v"],
            dynamic_axes={"mel": {0: "n_audio", 2: "T"}, "n_layer_cross_k": {1: "n_audio", 2: "T"}, "n_layer_cross_v": {1: "n_audio", 2: "T"}},
        )
        cross_k, cross_v = encoder(mel)
        cache = torch.zeros(dims.n_text_layer, 1, dims.n_text_ctx, dims.n_text_state)
        # Two tokens: the graph must not fix the number of tokens (the first step has the whole prompt).
        tokens = torch.zeros(1, 2, dtype=torch.int64)
        offset = torch.zeros(1, dtype=torch.int64)
        torch.onnx.export(
            decoder, (tokens, cache, cache, cross_k, cross_v, offset), dec_path, dynamo=False, opset_version=OPSET,
            input_names=["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache", "n_layer_cross_k", "n_layer_cross_v", "offset"],
            output_names=["logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"],
            dynamic_axes={
                "tokens": {0: "n_audio", 1: "n_tokens"},
                "in_n_layer_self_k_cache": {1: "n_audio"},
                "in_n_layer_self_v_cache": {1: "n_audio"},
                "n_layer_cross_k": {1: "n_audio", 2: "T"},
                "n_layer_cross_v": {1: "n_audio", 2: "T"},
            },
        )
    _add_metadata(enc_path, meta)
    paths = [enc_path, dec_path]
    for path in (enc_path, dec_path):
        int8 = path.replace(".onnx", ".int8.onnx")
        quantize_dynamic(model_input=path, model_output=int8, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8)
        paths.append(int8)
    # A quantised copy keeps the metadata; check, since sherpa-onnx reads it from the int8 encoder.
    assert {p.key for p in onnx.load(enc_path.replace(".onnx", ".int8.onnx")).metadata_props} >= set(meta), "int8 encoder lost its metadata"
    return paths
