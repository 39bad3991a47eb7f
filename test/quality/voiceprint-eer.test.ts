import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readWavMono } from '../../lib/audio/wav';
import { EngineHost } from '../../lib/engine/host';
import { cosine } from '../../lib/voiceprint/vectors';
import { TESTDATA } from '../support/paths';
import { firstInstalled } from '../support/real-models';
import { TEST_VAD } from '../support/vad';

// Same-speaker pairs from models/MANIFEST.md; every other pairing is a different-speaker pair.
const CLIPS: [speaker: string, file: string][] = [
  ['aew', 'arctic_aew_a0001'],
  ['aew', 'arctic_aew_a0002'],
  ['axb', 'arctic_axb_a0004'],
  ['axb', 'arctic_axb_a0005'],
  ['1688', 'ls_1688-142285-0000'],
  ['1688', 'ls_1688-142285-0001'],
  ['2414', 'speakers/ls_2414-128291-0000'],
  ['2414', 'speakers/ls_2414-128291-0003'],
  ['3080', 'speakers/ls_3080-5032-0000'],
  ['3080', 'speakers/ls_3080-5032-0003'],
];

/** Equal error rate: the point where false accepts and false rejects are equally frequent. */
function equalErrorRate(same: number[], different: number[]): number {
  let best = 1;
  for (const t of [...same, ...different]) {
    const frr = same.filter((s) => s < t).length / same.length;
    const far = different.filter((d) => d >= t).length / different.length;
    best = Math.min(best, Math.max(frr, far));
  }
  return best;
}

describe('quality: speaker verification equal error rate (real model)', function () {
  this.timeout(300_000);
  const model = firstInstalled(['speaker-campplus-en', 'speaker-wespeaker-en-resnet34', 'speaker-titanet-small']);

  it('separates same and different speakers (EER <= 10 % on the shared clips)', async function () {
    if (!model) {
      console.log('      skipped: no model (run: npx realtime-voice models pull speaker-campplus-en, or set VOICE_MODELS_DIR)');
      this.skip();
    }
    const vad = TEST_VAD;
    const host = new EngineHost({ modulePath: require.resolve('../../lib/voiceprint/voiceprint-engine'), name: 'voiceprint', options: { model: join(model.dir, 'model.onnx'), vad, decisionSeconds: 0.5 } });
    try {
      const embeddings = [];
      for (const [, file] of CLIPS) embeddings.push(await host.call<number[]>('enrol', (await readWavMono(join(TESTDATA, `${file}.wav`))).samples));
      const same: number[] = [];
      const different: number[] = [];
      for (let i = 0; i < CLIPS.length; i++) {
        for (let j = i + 1; j < CLIPS.length; j++) (CLIPS[i][0] === CLIPS[j][0] ? same : different).push(cosine(embeddings[i], embeddings[j]));
      }
      const eer = equalErrorRate(same, different);
      console.log(`      ${model.name}: EER ${(eer * 100).toFixed(1)} % (${same.length} same, ${different.length} different pairs)`);
      assert.ok(eer <= 0.1);
    } finally {
      await host.close();
    }
  });
});
