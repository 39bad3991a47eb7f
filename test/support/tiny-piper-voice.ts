import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeModel } from './onnx-builder';
import { SHARED_MODELS } from './paths';

/** Samples the tiny voice makes per phoneme id, so tests can count ids in the audio. */
export const SAMPLES_PER_ID = 64;

/**
 * A Piper-shaped voice: the inputs, output and .onnx.json of a real one
 * (input int64[1,N], input_lengths int64[1], scales float32[3], optional
 * sid int64[1] → output float32[1,1,T]). Its graph turns each id into 64
 * samples of value id/1000 × length_scale, so tests can read back from the
 * audio which ids went in and that the scales arrived.
 */
export function writeTinyPiperVoice(dir: string, name = 'tiny-voice', multiSpeaker = false): string {
  const path = join(dir, `${name}.onnx`);
  writeModel(path, {
    inputs: [
      { name: 'input', type: 'int64', shape: [1, 'phonemes'] },
      { name: 'input_lengths', type: 'int64', shape: [1] },
      { name: 'scales', type: 'float', shape: [3] },
      ...(multiSpeaker ? [{ name: 'sid', type: 'int64' as const, shape: [1] }] : []),
    ],
    outputs: [{ name: 'output', type: 'float', shape: [1, 1, 'time'] }],
    initializers: [
      { name: 'milli', type: 'float', dims: [], values: [0.001] },
      { name: 'repeats', type: 'int64', dims: [3], values: [1, 1, SAMPLES_PER_ID] },
      { name: 'axes0', type: 'int64', dims: [1], values: [0] },
      { name: 'one', type: 'int64', dims: [1], values: [1] },
      { name: 'two', type: 'int64', dims: [1], values: [2] },
      { name: 'shape3', type: 'int64', dims: [3], values: [1, 1, -1] },
    ],
    nodes: [
      { op: 'Cast', inputs: ['input'], outputs: ['ids_f'], attrs: { to: 1 }, intAttrs: ['to'] },
      { op: 'Mul', inputs: ['ids_f', 'milli'], outputs: ['scaled'] },
      // [1, N] -> [1, N, 1] -> tile -> [1, N, 64] -> [1, 1, N*64]
      { op: 'Unsqueeze', inputs: ['scaled', 'two'], outputs: ['col'] },
      { op: 'Tile', inputs: ['col', 'repeats'], outputs: ['tiled'] },
      { op: 'Reshape', inputs: ['tiled', 'shape3'], outputs: ['flat'] },
      // multiply by length_scale (scales[1]) so tests see the scales arrive
      { op: 'Slice', inputs: ['scales', 'one', 'two', 'axes0'], outputs: ['length_scale'] },
      { op: 'Mul', inputs: ['flat', 'length_scale'], outputs: ['output'] },
    ],
  });
  // The phoneme map of a real en_US voice (16 kHz), copied beside the model as Piper ships it.
  copyFileSync(join(SHARED_MODELS, 'tts', 'piper-en-us-phoneme-map.onnx.json'), `${path}.json`);
  return path;
}
