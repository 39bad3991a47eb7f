import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transcribeWith } from '../support/transcribe';
import { readWavMono } from '../../lib/audio/wav';
import { EngineHost } from '../../lib/engine/host';
import { scoringWords, wordErrors } from '../../lib/text/wer';
import { TESTDATA } from '../support/paths';
import { installedModel } from '../support/real-models';
import { TEST_VAD } from '../support/vad';

const vad = TEST_VAD;

describe('quality: word error rate on the ARCTIC clips (real recogniser)', function () {
  this.timeout(600_000);
  const model = installedModel('asr-zipformer-en-20m');

  it('streaming zipformer 20M: WER <= 10 %', async function () {
    if (!model) {
      console.log('      skipped: no model (run: npx realtime-voice models pull asr-zipformer-en-20m, or set VOICE_MODELS_DIR)');
      this.skip();
    }
    const refs = readFileSync(join(TESTDATA, 'trans.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('arctic_'))
      .map((l) => l.split('\t'));
    const host = new EngineHost({ modulePath: require.resolve('../../lib/asr/asr-engine'), name: 'asr', options: { vad, modelDir: model } });
    let errors = 0;
    let words = 0;
    try {
      for (const [file, , reference] of refs) {
        const { samples } = await readWavMono(join(TESTDATA, file));
        const heard = await transcribeWith(host, samples);
        const ref = scoringWords(reference);
        errors += wordErrors(ref, scoringWords(heard));
        words += ref.length;
        console.log(`      ${file}: "${heard}"`);
      }
    } finally {
      await host.close();
    }
    const wer = errors / words;
    console.log(`      WER ${(wer * 100).toFixed(1)} % over ${words} words`);
    assert.ok(wer <= 0.1, `WER ${(wer * 100).toFixed(1)} %`);
  });
});
