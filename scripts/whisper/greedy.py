"""Greedy decoding through sherpa-onnx's Whisper interface (see whisper_torch.py), the way
sherpa-onnx decodes: the prompt in one step, then one token a step from the cache, until
<|endoftext|>. Runs our PyTorch modules and the exported ONNX graphs alike, on numpy arrays."""
from typing import Callable

import numpy as np
import torch

Encoder = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
Decoder = Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]


def decode(encode: Encoder, step: Decoder, mel: np.ndarray, prompt: list[int], eot: int, n_text_ctx: int, layers: int, state: int) -> list[int]:
    """The tokens after `prompt` for one (n_mels, T) log-mel spectrogram, without <|endoftext|>."""
    cross_k, cross_v = encode(mel[None].astype(np.float32))
    cache_k = cache_v = np.zeros((layers, 1, n_text_ctx, state), dtype=np.float32)
    tokens, offset, out = np.array([prompt], dtype=np.int64), 0, []
    while offset + tokens.shape[1] < n_text_ctx // 2:
        logits, cache_k, cache_v = step(tokens, cache_k, cache_v, cross_k, cross_v, np.array([offset], dtype=np.int64))
        offset += tokens.shape[1]
        best = int(np.argmax(logits[0, -1]))
        if best == eot:
            break
        out.append(best)
        tokens = np.array([[best]], dtype=np.int64)
    return out


def torch_runners(encoder: torch.nn.Module, decoder: torch.nn.Module) -> tuple[Encoder, Decoder]:
    def encode(mel):
        with torch.no_grad():
            return tuple(t.numpy() for t in encoder(torch.from_numpy(mel)))

    def step(*arrays):
        with torch.no_grad():
            return tuple(t.numpy() for t in decoder(*(torch.from_numpy(a) for a in arrays)))

    return encode, step


def onnx_runners(encoder_path: str, decoder_path: str) -> tuple[Encoder, Decoder]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # 2 cores, shared
    enc = ort.InferenceSession(encoder_path, options, providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(decoder_path, options, providers=["CPUExecutionProvider"])
    dec_inputs = [i.name for i in dec.get_inputs()]

    def encode(mel):
        return tuple(enc.run(None, {"mel": mel}))

    def step(*arrays):
        return tuple(dec.run(None, dict(zip(dec_inputs, arrays))))

    return encode, step
