import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeModel, type ConstSpec, type NodeSpec } from './onnx-builder';

/** Per frame: mean log-mel energy → [weights·energy + bias] → log-probs over 2 tokens. */
function loudnessRule(weights: number[], bias: number[]): { nodes: NodeSpec[]; initializers: ConstSpec[] } {
  return {
    initializers: [
      { name: 'weights', type: 'float', dims: [1, 2], values: weights },
      { name: 'bias', type: 'float', dims: [2], values: bias },
    ],
    nodes: [
      { op: 'ReduceMean', inputs: ['audio_signal'], outputs: ['energy'], attrs: { axes: [1], keepdims: 1 }, intAttrs: ['axes', 'keepdims'] },
      { op: 'Transpose', inputs: ['energy'], outputs: ['energy_t'], attrs: { perm: [0, 2, 1] }, intAttrs: ['perm'] },
      { op: 'MatMul', inputs: ['energy_t', 'weights'], outputs: ['scaled'] },
      { op: 'Add', inputs: ['scaled', 'bias'], outputs: ['logits'] },
      { op: 'LogSoftmax', inputs: ['logits'], outputs: ['logprobs'], attrs: { axis: -1 }, intAttrs: ['axis'] },
    ],
  };
}

/**
 * A tiny NeMo-CTC-shaped recogniser that sherpa-onnx loads like a real one
 * (inputs audio_signal [N, 80, T] and length [N]; output log-probs [N, T, V];
 * metadata vocab_size, subsampling_factor, normalize_type). Its "acoustics":
 * a frame whose mean log-mel energy is above a threshold is token "s", any
 * other frame is blank. So speech decodes to "s…", silence and noise to "".
 */
export function writeTinyAsrModel(dir: string): string {
  const folder = join(dir, 'tiny-nemo-ctc');
  mkdirSync(folder, { recursive: true });
  writeModel(join(folder, 'model.onnx'), {
    inputs: [
      { name: 'audio_signal', type: 'float', shape: ['N', 80, 'T'] },
      { name: 'length', type: 'int64', shape: ['N'] },
    ],
    outputs: [{ name: 'logprobs', type: 'float', shape: ['N', 'T', 2] }],
    // logits = [0, mean + 6]: blank (id 0) wins in quiet frames (mean log-mel below -6), "s" in loud ones.
    ...loudnessRule([0, 1], [0, 6]),
    metadata: { model_type: 'EncDecCTCModelBPE', vocab_size: 2, subsampling_factor: 1, normalize_type: '' },
  });
  writeFileSync(join(folder, 'tokens.txt'), '<blk> 0\ns 1\n');
  return folder;
}

/**
 * The streaming variant, shaped like NeMo's cache-aware streaming CTC models
 * that sherpa-onnx's OnlineRecognizer runs (chunk input plus three cache
 * states in and out, metadata window_size / chunk_shift / cache dims). Same
 * loudness rule as above; the caches pass through unchanged.
 */
export function writeTinyStreamingAsrModel(dir: string): string {
  const folder = join(dir, 'tiny-nemo-streaming-ctc');
  mkdirSync(folder, { recursive: true });
  const cache = (name: string) => ({ name, type: 'float' as const, shape: ['N', 1, 1, 1] });
  writeModel(join(folder, 'model.onnx'), {
    inputs: [
      { name: 'audio_signal', type: 'float', shape: ['N', 80, 'T'] },
      { name: 'length', type: 'int64', shape: ['N'] },
      cache('cache_last_channel'),
      cache('cache_last_time'),
      { name: 'cache_last_channel_len', type: 'int64', shape: ['N'] },
    ],
    outputs: [
      { name: 'logprobs', type: 'float', shape: ['N', 'T', 2] },
      { name: 'encoded_lengths', type: 'int64', shape: ['N'] },
      cache('cache_last_channel_next'),
      cache('cache_last_time_next'),
      { name: 'cache_last_channel_len_next', type: 'int64', shape: ['N'] },
    ],
    // NeMo puts blank last: index 0 is "s", index 1 is blank.
    initializers: loudnessRule([1, 0], [6, 0]).initializers,
    nodes: [
      ...loudnessRule([1, 0], [6, 0]).nodes,
      { op: 'Identity', inputs: ['length'], outputs: ['encoded_lengths'] },
      { op: 'Identity', inputs: ['cache_last_channel'], outputs: ['cache_last_channel_next'] },
      { op: 'Identity', inputs: ['cache_last_time'], outputs: ['cache_last_time_next'] },
      { op: 'Identity', inputs: ['cache_last_channel_len'], outputs: ['cache_last_channel_len_next'] },
    ],
    metadata: {
      window_size: 16,
      chunk_shift: 16,
      subsampling_factor: 1,
      vocab_size: 1,
      cache_last_channel_dim1: 1,
      cache_last_channel_dim2: 1,
      cache_last_channel_dim3: 1,
      cache_last_time_dim1: 1,
      cache_last_time_dim2: 1,
      cache_last_time_dim3: 1,
    },
  });
  writeFileSync(join(folder, 'tokens.txt'), 's 0\n<blk> 1\n');
  return folder;
}
