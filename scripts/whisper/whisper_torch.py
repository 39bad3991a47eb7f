"""Whisper's encoder and decoder in PyTorch, built from CTranslate2's tensors, with the inputs and
outputs of sherpa-onnx's Whisper ONNX format:

  encoder: mel (batch, n_mels, T) -> n_layer_cross_k, n_layer_cross_v (n_text_layer, batch, T/2, n_text_state)
           (the decoder's cross-attention keys and values, computed once per utterance)
  decoder: tokens (batch, n), in_n_layer_self_k_cache, in_n_layer_self_v_cache
           (n_text_layer, batch, n_text_ctx, n_text_state), n_layer_cross_k, n_layer_cross_v, offset (1,)
           -> logits (batch, n, n_vocab), out_n_layer_self_k_cache, out_n_layer_self_v_cache

The self-attention cache has all n_text_ctx slots; `offset` says where the new tokens go. The
decoder writes their keys and values there and attends to every slot up to each token's own,
with a mask rather than a slice, so that the graph has no shape that depends on `offset`.

CTranslate2 fuses projections: a self-attention's linear_0 holds query, key and value (in that
order, one after the other on the output axis), a cross-attention's linear_1 holds key and value.
Whisper's key projections have no bias; CTranslate2 stores zeros for it.
"""
import re
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F


@dataclass
class Dims:
    n_mels: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_vocab: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int


def _count_layers(variables: dict, prefix: str) -> int:
    return len({m.group(1) for name in variables if (m := re.match(prefix + r"/layer_(\d+)/", name))})


def dims_of(variables: dict) -> Dims:
    conv1 = variables["encoder/conv1/weight"]
    return Dims(
        n_mels=conv1.shape[1],
        n_audio_ctx=variables["encoder/position_encodings/encodings"].shape[0],
        n_audio_state=conv1.shape[0],
        n_audio_head=int(variables["encoder/num_heads"]),
        n_audio_layer=_count_layers(variables, "encoder"),
        n_vocab=variables["decoder/embeddings/weight"].shape[0],
        n_text_ctx=variables["decoder/position_encodings/encodings"].shape[0],
        n_text_state=variables["decoder/embeddings/weight"].shape[1],
        n_text_head=int(variables["decoder/num_heads"]),
        n_text_layer=_count_layers(variables, "decoder"),
    )


class _Weights:
    """CTranslate2's tensors by name, as float32 torch tensors."""

    def __init__(self, variables: dict):
        self.variables = variables

    def __call__(self, name: str) -> Tensor:
        return torch.from_numpy(np.asarray(self.variables[name], dtype=np.float32).copy())

    def linear(self, prefix: str, rows: slice | None = None) -> nn.Linear:
        weight, bias = self(prefix + "/weight"), self(prefix + "/bias")
        if rows is not None:
            weight, bias = weight[rows], bias[rows]
        layer = nn.Linear(weight.shape[1], weight.shape[0])
        layer.weight.data, layer.bias.data = weight.contiguous(), bias.contiguous()
        return layer

    def layer_norm(self, prefix: str) -> nn.LayerNorm:
        gamma = self(prefix + "/gamma")
        norm = nn.LayerNorm(gamma.shape[0], eps=1e-5)
        norm.weight.data, norm.bias.data = gamma, self(prefix + "/beta")
        return norm

    def conv(self, prefix: str, stride: int) -> nn.Conv1d:
        weight = self(prefix + "/weight")
        conv = nn.Conv1d(weight.shape[1], weight.shape[0], weight.shape[2], stride=stride, padding=1)
        conv.weight.data, conv.bias.data = weight, self(prefix + "/bias")
        return conv


def _thirds(n: int) -> tuple[slice, slice, slice]:
    return slice(0, n), slice(n, 2 * n), slice(2 * n, 3 * n)


def _attend(q: Tensor, k: Tensor, v: Tensor, heads: int, scale: float, mask: Tensor | None = None) -> Tensor:
    """Scaled dot-product attention of (batch, n, state) queries over (batch, m, state) keys and values;
    `scale` is 1 / sqrt(head size), a constant of the model (a traced shape would warn in the export)."""
    b, n, state = q.shape
    m = k.shape[1]
    q = q.view(b, n, heads, -1).transpose(1, 2)
    k = k.view(b, m, heads, -1).transpose(1, 2)
    v = v.view(b, m, heads, -1).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) * scale
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    return (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, state)


class _EncoderLayer(nn.Module):
    """Self-attention and MLP, each after a layer norm, with residuals: the encoder's layer, and
    the decoder's without its cross-attention."""

    def __init__(self, w: _Weights, prefix: str, state: int, heads: int):
        super().__init__()
        self.heads, self.scale = heads, (state // heads) ** -0.5
        q, k, v = _thirds(state)
        att = prefix + "/self_attention"
        self.attn_ln = w.layer_norm(att + "/layer_norm")
        self.query, self.key, self.value = (w.linear(att + "/linear_0", rows) for rows in (q, k, v))
        self.out = w.linear(att + "/linear_1")
        self.mlp_ln = w.layer_norm(prefix + "/ffn/layer_norm")
        self.mlp_in, self.mlp_out = w.linear(prefix + "/ffn/linear_0"), w.linear(prefix + "/ffn/linear_1")

    def forward(self, x: Tensor) -> Tensor:
        h = self.attn_ln(x)
        x = x + self.out(_attend(self.query(h), self.key(h), self.value(h), self.heads, self.scale))
        return x + self.mlp_out(F.gelu(self.mlp_in(self.mlp_ln(x))))


class WhisperEncoder(nn.Module):
    def __init__(self, variables: dict):
        super().__init__()
        w, d = _Weights(variables), dims_of(variables)
        self.conv1, self.conv2 = w.conv("encoder/conv1", 1), w.conv("encoder/conv2", 2)
        self.register_buffer("positions", w("encoder/position_encodings/encodings"))
        self.layers = nn.ModuleList(_EncoderLayer(w, f"encoder/layer_{i}", d.n_audio_state, d.n_audio_head) for i in range(d.n_audio_layer))
        self.ln_post = w.layer_norm("encoder/layer_norm")
        # The decoder's cross-attention keys and values: sherpa-onnx's encoder hands them out.
        s = d.n_text_state
        kv = [f"decoder/layer_{i}/attention/linear_1" for i in range(d.n_text_layer)]
        self.cross_keys = nn.ModuleList(w.linear(p, slice(0, s)) for p in kv)
        self.cross_values = nn.ModuleList(w.linear(p, slice(s, 2 * s)) for p in kv)

    def forward(self, mel: Tensor) -> tuple[Tensor, Tensor]:
        x = F.gelu(self.conv2(F.gelu(self.conv1(mel)))).transpose(1, 2)
        # sherpa-onnx feeds the utterance and a second of padding, not 30 s: as many positions as frames.
        x = x + self.positions[: x.shape[1]]
        for layer in self.layers:
            x = layer(x)
        x = self.ln_post(x)
        return torch.stack([k(x) for k in self.cross_keys]), torch.stack([v(x) for v in self.cross_values])


class _DecoderLayer(_EncoderLayer):
    """Masked self-attention over the cache, cross-attention to the audio, MLP."""

    def __init__(self, w: _Weights, prefix: str, state: int, heads: int):
        super().__init__(w, prefix, state, heads)
        cross = prefix + "/attention"
        self.cross_ln = w.layer_norm(cross + "/layer_norm")
        self.cross_query, self.cross_out = w.linear(cross + "/linear_0"), w.linear(cross + "/linear_2")

    def forward(self, x, k_cache, v_cache, slots, mask, cross_k, cross_v):
        h = self.attn_ln(x)
        # Write this step's keys and values into their slots of the cache, then attend to it.
        index = slots.view(1, -1, 1).expand(x.shape[0], -1, x.shape[2])
        k_cache = k_cache.scatter(1, index, self.key(h))
        v_cache = v_cache.scatter(1, index, self.value(h))
        x = x + self.out(_attend(self.query(h), k_cache, v_cache, self.heads, self.scale, mask))
        x = x + self.cross_out(_attend(self.cross_query(self.cross_ln(x)), cross_k, cross_v, self.heads, self.scale))
        x = x + self.mlp_out(F.gelu(self.mlp_in(self.mlp_ln(x))))
        return x, k_cache, v_cache


class WhisperDecoder(nn.Module):
    def __init__(self, variables: dict):
        super().__init__()
        w, d = _Weights(variables), dims_of(variables)
        # The token embedding is also the output projection (tied weights). Stored once, transposed,
        # as the output MatMul wants it: the lookup reads its columns, so that the export does not
        # keep a second, transposed copy (80 MB for tiny.en).
        self.register_buffer("projection", w("decoder/embeddings/weight").t().contiguous())
        self.register_buffer("positions", w("decoder/position_encodings/encodings"))
        self.layers = nn.ModuleList(_DecoderLayer(w, f"decoder/layer_{i}", d.n_text_state, d.n_text_head) for i in range(d.n_text_layer))
        self.ln = w.layer_norm("decoder/layer_norm")

    def forward(self, tokens, self_k, self_v, cross_k, cross_v, offset):
        b, n = tokens.shape
        slots = offset + torch.arange(n, dtype=torch.int64)
        x = self.projection.index_select(1, tokens.reshape(-1)).t().reshape(b, n, -1) + self.positions[slots]
        # Token i (in slot offset + i) sees the slots up to its own: the cache beyond is empty.
        mask = torch.arange(self_k.shape[2], dtype=torch.int64).view(1, -1) > slots.view(-1, 1)
        ks, vs = [], []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, self_k[i], self_v[i], slots, mask, cross_k[i], cross_v[i])
            ks.append(k)
            vs.append(v)
        return self.ln(x) @ self.projection, torch.stack(ks), torch.stack(vs)
