import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readWavMono } from '../../../lib/audio/wav';
import { FRAMES, logMel, N_MELS } from '../../../lib/turn/log-mel';
import { SmartTurn } from '../../../lib/turn/smart-turn';
import { TESTDATA } from '../../support/paths';
import { SMART_TURN, installedModel } from '../../support/real-models';
import { MAKE_TEST_VENV, testVenvPythonWith } from '../../support/test-venv';

const REFERENCE = join(__dirname, 'smart_turn_reference.py');
const MODEL_FILE = 'smart-turn-v3.2-cpu.onnx';

/** pipecat's own features (and, given a model, its probability) for samples start..end of a clip. */
function reference(python: string, clip: string, start: number, end: number, model?: string): { mel: Float32Array; probability?: number } {
  const out = execFileSync(python, [REFERENCE, clip, String(start), String(end), ...(model ? [model] : [])], { maxBuffer: 1 << 24 });
  const floats = new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length));
  return { mel: floats.subarray(0, N_MELS * FRAMES), probability: model ? floats[N_MELS * FRAMES] : undefined };
}

function largestDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('turn: Smart Turn v3 log-mel features', function () {
  this.timeout(120_000);
  let python: string | undefined;
  before(function () {
    python = testVenvPythonWith(['numpy', 'pipecat', 'onnxruntime']);
    if (!python) {
      console.log(`      skipped: no pipecat-ai reference in the test virtualenv (run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
  });

  // Padding (a short clip), the whole window (a clip cut to exactly 8 s) and truncation (15 s, the last 8 kept).
  for (const [name, seconds] of [
    ['arctic_aew_a0001', undefined],
    ['arctic_axb_a0005', 1.0],
    ['ls_1688-142285-0000', 8],
    ['ls_1688-142285-0000', undefined],
  ] as const) {
    it(`equal pipecat's numpy reference on ${name}${seconds ? ` (first ${seconds} s)` : ''} within 1e-4`, async () => {
      const path = join(TESTDATA, `${name}.wav`);
      const { samples } = await readWavMono(path);
      const end = seconds ? Math.round(seconds * 16000) : samples.length;
      const mine = logMel(samples.subarray(0, end));
      const { mel } = reference(python!, path, 0, end);
      // float32 normalisation in both; the rest in float64: measured 2e-6.
      assert.ok(largestDifference(mine, mel) < 1e-4, `largest difference ${largestDifference(mine, mel)}`);
    });
  }

  it('silence (all zeros) gives finite features, not NaN (the variance epsilon)', () => {
    const mel = logMel(new Float32Array(16000));
    assert.ok(mel.every((v) => Number.isFinite(v)));
  });

  it(`through onnxruntime-node, the model gives pipecat's probability (${SMART_TURN})`, async function () {
    const dir = installedModel(SMART_TURN);
    if (!dir) {
      console.log(`      skipped: no model (${SMART_TURN}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    const model = join(dir, MODEL_FILE);
    const turn = await SmartTurn.load(model);
    try {
      for (const name of ['arctic_aew_a0002', 'arctic_axb_a0004']) {
        const path = join(TESTDATA, `${name}.wav`);
        const { samples } = await readWavMono(path);
        // The whole sentence, and the same cut in the middle of it.
        for (const end of [samples.length, Math.round(samples.length * 0.45)]) {
          const ours = await turn.predict(samples.subarray(0, end));
          const theirs = reference(python!, path, 0, end, model).probability!;
          assert.ok(Math.abs(ours.probability - theirs) < 1e-3, `${name} to ${end}: ${ours.probability} vs pipecat ${theirs}`);
        }
      }
    } finally {
      await turn.dispose();
    }
  });
});
