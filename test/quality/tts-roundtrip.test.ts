import assert from 'node:assert/strict';
import { join } from 'node:path';
import { transcribeWith } from '../support/transcribe';
import { resample } from '../../lib/audio/resample';
import { EngineHost } from '../../lib/engine/host';
import type { SentenceAudio } from '../../lib/tts/piper-engine';
import { scoringWords, wordErrors } from '../../lib/text/wer';
import { firstInstalled, installedModel } from '../support/real-models';
import { TEST_VAD } from '../support/vad';

const SENTENCES = ['Turn on the kitchen lights.', 'The weather is sunny today.', 'Set a timer for ten minutes.'];
const vad = TEST_VAD;

describe('quality: TTS round trip (real Piper voice → real recogniser)', function () {
  this.timeout(300_000);
  const voice = firstInstalled(['tts-piper-en-us-hfc-female-medium', 'tts-piper-en-us-kristin-medium', 'tts-piper-en-us-kathleen-low']);
  const asr = installedModel('asr-zipformer-en-20m');

  it('speaks sentences that the asr engine writes back (WER <= 20 %)', async function () {
    if (!voice || !asr) {
      console.log(`      skipped: no model (needs a Piper en_US voice and asr-zipformer-en-20m in $VOICE_MODELS_DIR; missing: ${[!voice && 'voice', !asr && 'asr'].filter(Boolean).join(', ')})`);
      this.skip();
    }
    const tts = new EngineHost({ modulePath: require.resolve('../../lib/tts/piper-engine'), name: 'tts', options: { modelPath: join(voice.dir, 'voice.onnx') } });
    const recogniser = new EngineHost({ modulePath: require.resolve('../../lib/asr/asr-engine'), name: 'asr', options: { vad, modelDir: asr } });
    try {
      for (const sentence of SENTENCES) {
        const parts: SentenceAudio[] = [];
        await tts.call('synthesize', { text: sentence }, { onChunk: (c) => parts.push(c as SentenceAudio) });
        const speech = resample(parts[0].samples, parts[0].sampleRate, 16000);
        const audio = new Float32Array(8000 + speech.length);
        audio.set(speech, 8000);
        const heard = await transcribeWith(recogniser, audio);
        const ref = scoringWords(sentence);
        const rate = wordErrors(ref, scoringWords(heard)) / ref.length;
        console.log(`      "${sentence}" → "${heard}" (WER ${(rate * 100).toFixed(0)} %)`);
        assert.ok(rate <= 0.2, `WER ${rate} for "${sentence}"`);
      }
    } finally {
      await tts.close();
      await recogniser.close();
    }
  });
});
