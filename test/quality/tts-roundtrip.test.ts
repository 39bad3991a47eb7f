import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resample } from '../../lib/audio/resample';
import { EngineHost } from '../../lib/engine/host';
import type { SentenceAudio } from '../../lib/tts/piper-engine';
import { scoringWords, wordErrors } from '../../lib/text/wer';
import { hearThroughAsrNode } from '../support/asr-node-run';
import { JUDGE, judgeAudio, judgePython } from '../support/judge';
import { EN_US_VOICES, firstInstalled, installedModel } from '../support/real-models';
import { MAKE_TEST_VENV } from '../support/test-venv';
import { transcribeWith } from '../support/transcribe';
import { TEST_VAD } from '../support/vad';

// Varied commands and questions, written as Whisper writes them (digits, "o'clock"), so the
// judge's spelling is not counted as the voice's error.
const SENTENCES = [
  'Turn on the kitchen lights.',
  'The weather is sunny today.',
  'Set a timer for 10 minutes.',
  'What time does the train to Boston leave?',
  'Please remind me to call my mother tomorrow morning.',
  'The quick brown fox jumps over the lazy dog.',
  "I can't find my keys anywhere!",
  'Add milk, eggs and bread to the shopping list.',
  'Wake me up at 7 o\'clock on Saturday.',
  'How far is it from here to the nearest pharmacy?',
];
/**
 * Each sentence is spoken this many times: Piper's voices draw random noise (noise_scale,
 * noise_w) at every synthesis, as the official Piper does, so one rendering of a six-word
 * sentence can be misheard by a recogniser that hears the next one right; a sentence counts
 * as understood when most of its renderings are.
 */
const RENDERINGS = 3;
const SHERPA_ASR = 'asr-zipformer-en-20m';
/** Whisper tiny.en, converted from the judge's own weights by scripts/test-models.sh (scripts/whisper). */
const WHISPER = 'asr-whisper-tiny-en';

type Clip = { samples: Float32Array; sampleRate: number };

/** One sentence spoken by piper-tts's engine: its audio, at the voice's rate. */
async function speak(tts: EngineHost, text: string): Promise<Clip> {
  const parts: SentenceAudio[] = [];
  await tts.call('synthesize', { text }, { onChunk: (c) => parts.push(c as SentenceAudio) });
  assert.equal(parts.length, 1, `one sentence in, one audio out: "${text}"`);
  return { samples: parts[0].samples, sampleRate: parts[0].sampleRate };
}

function wer(reference: string, heard: string): { errors: number; words: number } {
  const ref = scoringWords(reference);
  return { errors: wordErrors(ref, scoringWords(heard)), words: ref.length };
}

const percent = (x: number) => `${(x * 100).toFixed(0)} %`;

/**
 * What `who` heard of each rendering of each sentence (heard[sentence][rendering]):
 * WER <= 5 % over all of them, and no sentence whose median rendering is above 25 %.
 */
function assertHeardSentences(heard: string[][], who: string): void {
  let errors = 0;
  let words = 0;
  SENTENCES.forEach((sentence, i) => {
    const rates = heard[i].map((text) => {
      const r = wer(sentence, text);
      errors += r.errors;
      words += r.words;
      return r.errors / r.words;
    });
    console.log(`      "${sentence}" → ${heard[i].map((text, k) => `"${text}" (${percent(rates[k])})`).join(', ')}`);
    const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)];
    assert.ok(median <= 0.25, `WER ${percent(median)} (median of ${rates.length} renderings) for "${sentence}": heard ${heard[i].map((t) => `"${t}"`).join(', ')}`);
  });
  console.log(`      ${who}: WER ${((errors / words) * 100).toFixed(1)} % over ${words} words (${RENDERINGS} renderings of ${SENTENCES.length} sentences)`);
  assert.ok(errors / words <= 0.05, `WER ${((errors / words) * 100).toFixed(1)} % over ${words} words`);
}

/** Texts heard of all renderings, back in the shape heard[sentence][rendering]. */
const bySentence = (texts: string[]): string[][] => SENTENCES.map((_s, i) => texts.slice(i * RENDERINGS, (i + 1) * RENDERINGS));

describe('quality: TTS round trip (real Piper voice → a real recogniser)', function () {
  this.timeout(300_000);
  const voice = firstInstalled(EN_US_VOICES);
  let tts: EngineHost | undefined;
  const spoken = new Map<string, Clip[]>();

  before(function () {
    if (voice) tts = new EngineHost({ modulePath: require.resolve('../../lib/tts/piper-engine'), name: 'tts', options: { modelPath: join(voice.dir, 'voice.onnx') } });
  });
  after(() => tts?.close());

  /** Every rendering of every sentence (sentence by sentence), spoken once and shared by the recognisers. */
  async function spokenSentences(): Promise<Clip[]> {
    for (const s of SENTENCES) {
      if (spoken.has(s)) continue;
      const renderings: Clip[] = [];
      for (let k = 0; k < RENDERINGS; k++) renderings.push(await speak(tts!, s));
      spoken.set(s, renderings);
    }
    return SENTENCES.flatMap((s) => spoken.get(s)!);
  }

  it(`the judge hears what piper-tts says (WER <= 5 % over ${RENDERINGS} renderings of ${SENTENCES.length} sentences, no sentence above 25 % in its median rendering)`, async function () {
    if (!voice || !judgePython()) {
      console.log(`      skipped: no model (needs a Piper en_US voice (${EN_US_VOICES.join(' or ')}) in $VOICE_MODELS_DIR and ${JUDGE}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    assertHeardSentences(bySentence(await judgeAudio(await spokenSentences())), `${voice.name} → judge`);
  });

  it(`the asr node (${WHISPER}, in the Node-RED runtime) hears what piper-tts says (WER <= 5 % over ${RENDERINGS} renderings of ${SENTENCES.length} sentences, no sentence above 25 % in its median rendering)`, async function () {
    const asr = installedModel(WHISPER);
    if (!voice || !asr) {
      console.log(`      skipped: no model (needs a Piper en_US voice and ${WHISPER} in $VOICE_MODELS_DIR; missing: ${[!voice && 'voice', !asr && WHISPER].filter(Boolean).join(', ')}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    const clips = (await spokenSentences()).map((c) => resample(c.samples, c.sampleRate, 16000));
    assertHeardSentences(bySentence((await hearThroughAsrNode(asr!, clips)).map((h) => h.text)), `${voice!.name} → asr node (${WHISPER})`);
  });

  it(`the asr engine (sherpa-onnx ${SHERPA_ASR}) writes back what piper-tts says (WER <= 20 % per sentence)`, async function () {
    const asr = installedModel(SHERPA_ASR);
    if (!voice || !asr) {
      console.log(`      skipped: no model (needs a Piper en_US voice and ${SHERPA_ASR} in $VOICE_MODELS_DIR; missing: ${[!voice && 'voice', !asr && SHERPA_ASR].filter(Boolean).join(', ')})`);
      this.skip();
    }
    const recogniser = new EngineHost({ modulePath: require.resolve('../../lib/asr/asr-engine'), name: 'asr', options: { vad: TEST_VAD, modelDir: asr } });
    try {
      const clips = await spokenSentences();
      for (const [i, sentence] of SENTENCES.entries()) {
        const first = clips[i * RENDERINGS];
        const speech = resample(first.samples, first.sampleRate, 16000);
        const audio = new Float32Array(8000 + speech.length);
        audio.set(speech, 8000);
        const heard = await transcribeWith(recogniser, audio);
        const r = wer(sentence, heard);
        console.log(`      "${sentence}" → "${heard}" (WER ${((r.errors / r.words) * 100).toFixed(0)} %)`);
        assert.ok(r.errors / r.words <= 0.2, `WER ${r.errors / r.words} for "${sentence}"`);
      }
    } finally {
      await recogniser.close();
    }
  });
});
