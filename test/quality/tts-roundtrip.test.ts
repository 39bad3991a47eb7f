import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resample } from '../../lib/audio/resample';
import { EngineHost } from '../../lib/engine/host';
import type { SentenceAudio } from '../../lib/tts/piper-engine';
import { firstInstalled, installedModel } from '../support/real-models';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

const SENTENCES = ['Turn on the kitchen lights.', 'The weather is sunny today.', 'Set a timer for ten minutes.'];

function words(s: string): string[] {
  return s.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);
}

/** Word error rate by edit distance. */
function wer(ref: string[], hyp: string[]): number {
  const d = Array.from({ length: ref.length + 1 }, (_, i) => [i, ...Array(hyp.length).fill(0)] as number[]);
  for (let j = 1; j <= hyp.length; j++) d[0][j] = j;
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= hyp.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] === hyp[j - 1] ? 0 : 1));
  }
  return d[ref.length][hyp.length] / Math.max(1, ref.length);
}

describe('quality: TTS round trip (real Piper voice → real recogniser)', function () {
  this.timeout(300_000);
  const voice = firstInstalled(['tts-piper-en-us-hfc-female-medium', 'tts-piper-en-us-kristin-medium', 'tts-piper-en-us-kathleen-low']);
  const asr = installedModel('asr-zipformer-en-20m');

  it('speaks sentences that a recogniser writes back (WER <= 20 %)', async function () {
    if (!voice || !asr) {
      console.log(`      skipped: no model (needs a Piper en_US voice and asr-zipformer-en-20m in $VOICE_MODELS_DIR; missing: ${[!voice && 'voice', !asr && 'asr'].filter(Boolean).join(', ')})`);
      this.skip();
    }
    const host = new EngineHost({ modulePath: require.resolve('../../lib/tts/piper-engine'), name: 'tts', options: { modelPath: join(voice.dir, 'voice.onnx') } });
    const recognizer = new sherpa.OnlineRecognizer({
      featConfig: { sampleRate: 16000, featureDim: 80 },
      modelConfig: {
        transducer: {
          encoder: join(asr, 'encoder-epoch-99-avg-1.int8.onnx'),
          decoder: join(asr, 'decoder-epoch-99-avg-1.onnx'),
          joiner: join(asr, 'joiner-epoch-99-avg-1.int8.onnx'),
        },
        tokens: join(asr, 'tokens.txt'),
        numThreads: 1,
        provider: 'cpu',
      },
      decodingMethod: 'greedy_search',
    });
    try {
      for (const sentence of SENTENCES) {
        const parts: SentenceAudio[] = [];
        await host.call('synthesize', { text: sentence }, { onChunk: (c) => parts.push(c as SentenceAudio) });
        const audio = resample(parts[0].samples, parts[0].sampleRate, 16000);
        const stream = recognizer.createStream();
        stream.acceptWaveform({ samples: audio, sampleRate: 16000 });
        stream.acceptWaveform({ samples: new Float32Array(8000), sampleRate: 16000 });
        stream.inputFinished();
        while (recognizer.isReady(stream)) recognizer.decode(stream);
        const heard = recognizer.getResult(stream).text as string;
        const rate = wer(words(sentence), words(heard));
        console.log(`      "${sentence}" → "${heard}" (WER ${(rate * 100).toFixed(0)} %)`);
        assert.ok(rate <= 0.2, `WER ${rate} for "${sentence}"`);
      }
    } finally {
      await host.close();
    }
  });
});
