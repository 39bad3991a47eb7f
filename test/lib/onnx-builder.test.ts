import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeModel } from '../support/onnx-builder';

// The tiny models of the engine tests are only as good as this builder: check that
// onnxruntime loads what it writes and computes what the graph says.
describe('test support: ONNX model builder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-builder-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a model that onnxruntime-node loads and runs', async () => {
    const path = writeModel(join(dir, 'affine.onnx'), {
      inputs: [{ name: 'x', type: 'float', shape: [1, 'N'] }],
      outputs: [{ name: 'y', type: 'float', shape: [1, 'N'] }],
      initializers: [{ name: 'two', type: 'float', dims: [], values: [2] }],
      nodes: [
        { op: 'Mul', inputs: ['x', 'two'], outputs: ['t'] },
        { op: 'Constant', inputs: [], outputs: ['one'], attrs: { value: { name: 'one', type: 'float', dims: [], values: [1] } } },
        { op: 'Add', inputs: ['t', 'one'], outputs: ['y'] },
      ],
      metadata: { sample_rate: 22050, comment: 'test' },
    });
    const session = await ort.InferenceSession.create(path);
    assert.deepEqual(session.inputNames, ['x']);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([0, 1, 2]), [1, 3]) });
    assert.deepEqual(Array.from(out.y.data as Float32Array), [1, 3, 5]);
  });
});
