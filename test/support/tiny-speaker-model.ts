import { join } from 'node:path';
import { writeModel } from './onnx-builder';

/**
 * A tiny 3D-Speaker-shaped embedding model that sherpa-onnx's
 * SpeakerEmbeddingExtractor loads like a real one (input [N, T, 80] fbank,
 * output [N, dim], metadata framework/output_dim/sample_rate/...). Inside: the
 * utterance's mean spectrum minus its own average level, i.e. the shape of the
 * voice's spectrum: crude, but it does tell the voices in the test clips apart.
 */
export function writeTinySpeakerModel(dir: string): string {
  const path = join(dir, 'tiny-speaker.onnx');
  writeModel(path, {
    inputs: [{ name: 'x', type: 'float', shape: ['N', 'T', 80] }],
    outputs: [{ name: 'embedding', type: 'float', shape: ['N', 80] }],
    nodes: [
      { op: 'ReduceMean', inputs: ['x'], outputs: ['spectrum'], attrs: { axes: [1], keepdims: 0 }, intAttrs: ['axes', 'keepdims'] },
      { op: 'ReduceMean', inputs: ['spectrum'], outputs: ['level'], attrs: { axes: [1], keepdims: 1 }, intAttrs: ['axes', 'keepdims'] },
      { op: 'Sub', inputs: ['spectrum', 'level'], outputs: ['embedding'] },
    ],
    metadata: { framework: '3d-speaker', output_dim: 80, sample_rate: 16000, normalize_samples: 1, language: 'English', feature_normalize_type: '' },
  });
  return path;
}
