import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnxMetadata } from '../../../lib/asr/onnx-metadata';
import { writeModel } from '../../support/onnx-builder';
import { SHARED_MODELS } from '../../support/paths';

describe('readOnnxMetadata', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-meta-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads metadata_props, skipping a large graph without loading it', () => {
    const path = writeModel(join(dir, 'big.onnx'), {
      inputs: [{ name: 'x', type: 'float', shape: [1, 'N'] }],
      outputs: [{ name: 'y', type: 'float', shape: [1, 'N'] }],
      // ~8 MB of weights between the header and the metadata.
      initializers: [{ name: 'w', type: 'float', dims: [2_000_000], values: new Array(2_000_000).fill(0.5) }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
      metadata: { model_type: 'zipformer2', vocab_size: 500, note: 'ünïcode, spaces and = signs' },
    });
    const t0 = performance.now();
    assert.deepEqual(readOnnxMetadata(path), { model_type: 'zipformer2', vocab_size: '500', note: 'ünïcode, spaces and = signs' });
    assert.ok(performance.now() - t0 < 50, 'reads the header, not the weights');
  });

  it('returns nothing for a model without metadata (the Silero VAD)', () => {
    assert.deepEqual(readOnnxMetadata(join(SHARED_MODELS, 'vad', 'silero_vad.onnx')), {});
  });

  it('refuses a file that is not an ONNX model', () => {
    const path = join(dir, 'not.onnx');
    writeFileSync(path, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
    assert.throws(() => readOnnxMetadata(path), { code: 'MODEL_INVALID', message: /not\.onnx is not an ONNX model/ });
    assert.throws(() => readOnnxMetadata(join(dir, 'absent.onnx')), { code: 'ENOENT' });
  });
});
