import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineHost } from '../../lib/engine/host';
import { scoringWords, wordErrors } from '../../lib/text/wer';
import { phonemeIds } from '../../lib/tts/phoneme-ids';
import type { SentenceAudio } from '../../lib/tts/piper-engine';
import { JUDGE, judgeAudio, judgePython } from '../support/judge';
import { OFFICIAL_PIPER, officialPiper, officialPiperPython, type OfficialText } from '../support/piper-reference';
import { JOE_VOICE, installedModel } from '../support/real-models';
import { findBetween } from '../support/signal';
import { MAKE_TEST_VENV } from '../support/test-venv';

/**
 * Each text, and what a listener writes on hearing espeak-ng read it when that
 * differs (the judge is scored against it): espeak-ng's own readings are kept
 * ("$1,250" is "dollar one thousand...", "St." is "saint", "-5" is "minus
 * five"), since the official Piper says them the same way; numbers stay digits,
 * as Whisper writes them.
 */
const TEXTS: { text: string; heard?: string }[] = [
  { text: 'The meeting starts at 3:30 p.m. on Friday.' },
  { text: 'It costs $1,250 — or about €1,100.', heard: 'It costs dollar 1,250, or about euros 1,100.' },
  { text: 'She was born on March 5th, 1998, in Chicago.' },
  { text: 'Dr. Smith lives at 221 Baker St. in London.', heard: 'Dr. Smith lives at 221 Baker Saint in London.' },
  { text: '"I\'m not sure," he said, "but I\'ll try."' },
  { text: 'Can you turn off the lights in the kitchen?' },
  { text: 'What a beautiful day it is!' },
  { text: 'The train leaves at 7:45 and arrives at 10:15.' },
  { text: 'We sold 3.5 million copies in 2023.' },
  { text: 'Please call 555-0123 before noon.', heard: 'Please call 555 dash 0123 before noon.' },
  { text: 'Mr. and Mrs. Jones bought 12 eggs, 2 loaves of bread, and milk.' },
  { text: 'The temperature dropped to -5 degrees overnight.', heard: 'The temperature dropped to minus 5 degrees overnight.' },
  { text: 'About 45% of people prefer tea to coffee.' },
  { text: 'NASA launched the rocket on July 4, 2021.' },
  { text: 'Wait... are you serious?' },
  { text: 'The recipe needs 2 cups of flour; add sugar later.' },
  { text: 'Note: the office is closed on Monday.' },
  { text: 'Her flight, which was delayed twice, finally landed at 11 p.m.' },
  { text: "I can't believe it's already the 21st century!" },
  {
    text: 'When the storm finally passed over the quiet little village, the children ran outside to splash in the puddles while their parents stood in the doorways, smiling and talking about how lucky they were that nobody had been hurt.',
  },
];

/** Deterministic synthesis on both sides: no noise in the flow or the durations. */
const DETERMINISTIC = { noiseScale: 0, noiseW: 0, sentenceSilence: 0 };
/** ±23 ms at 22.05 kHz: both sides run the same model on the same ids, so any lag is tiny. */
const MAX_LAG = 512;

const toInt16 = (x: Float32Array) => Int16Array.from(x, (v) => Math.max(-32767, Math.min(32767, Math.round(v * 32767))));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const TITLES: Record<string, string> = { dr: 'doctor', mr: 'mister', mrs: 'missus' };

/**
 * Words in one spelling for the reference and a listener's transcript, so
 * that only what was misheard counts: numbers without thousands separators,
 * times as hours and minutes ("3:30 p.m." = "3.30pm"), ordinals as their
 * numbers, "%" as "percent", titles spelled out, "$" and "€" as the words
 * espeak-ng says, a dash between digits as "dash".
 */
function listenerWords(text: string): string[] {
  const spelled = text
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/\b(\d{1,2}):(\d{2})\b/g, '$1 $2')
    .replace(/\b(\d{1,2})\.(\d{2})\s?(?=[ap]\.?m\b)/gi, '$1 $2 ')
    .replace(/\b(dr|mrs|mr)\b\.?/gi, (t: string) => TITLES[t.replace('.', '').toLowerCase()])
    .replace(/(\d+)(st|nd|rd|th)\b/gi, '$1')
    .replace(/%/g, ' percent')
    .replace(/\b([ap])\.\s?m\b\.?/gi, '$1m')
    .replace(/\$/g, ' dollar ')
    .replace(/€/g, ' euros ')
    .replace(/(\d)-(\d)/g, '$1 dash $2');
  return scoringWords(spelled);
}

describe('quality: piper-tts conformance with the official Piper (same voice)', function () {
  this.timeout(600_000);
  const voiceDir = installedModel(JOE_VOICE);
  let dir: string;
  let tts: EngineHost;
  const ours: SentenceAudio[][] = [];
  let official: OfficialText[];

  before(async function () {
    if (!voiceDir || !officialPiperPython()) {
      console.log(`      skipped: no model (needs ${JOE_VOICE} in $VOICE_MODELS_DIR and ${OFFICIAL_PIPER}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'rv-piper-conformance-'));
    const voicePath = join(voiceDir, 'voice.onnx');
    tts = new EngineHost({ modulePath: require.resolve('../../lib/tts/piper-engine'), name: 'tts', options: { modelPath: voicePath } });
    for (const { text } of TEXTS) {
      const parts: SentenceAudio[] = [];
      await tts.call('synthesize', { text, ...DETERMINISTIC }, { onChunk: (c) => parts.push(c as SentenceAudio) });
      ours.push(parts);
    }
    ({ texts: official } = await officialPiper(voicePath, TEXTS.map((t) => t.text), join(dir, 'official')));
  });
  after(async () => {
    await tts?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('feeds the model the phoneme ids the official Piper feeds it, sentence by sentence', () => {
    const map = (JSON.parse(readFileSync(join(voiceDir!, 'voice.onnx.json'), 'utf8')) as { phoneme_id_map: Record<string, number[]> }).phoneme_id_map;
    // No known difference remains (see docs/piper-tts.md for those found and fixed).
    TEXTS.forEach(({ text }, i) => {
      assert.deepEqual(
        ours[i].map((s) => s.phonemes),
        official[i].sentences.map((s) => s.phonemes),
        `phonemes of "${text}"`,
      );
      assert.deepEqual(
        ours[i].map((s) => phonemeIds(s.phonemes, map).ids),
        official[i].sentences.map((s) => s.ids),
        `ids of "${text}"`,
      );
    });
  });

  it('with noise_scale = noise_w = 0, says each text as the official Piper does (length within 1 %, correlation >= 0.98)', () => {
    const lengths: number[] = [];
    const correlations: number[] = [];
    TEXTS.forEach(({ text }, i) => {
      const mine = toInt16(Float32Array.from(ours[i].flatMap((s) => [...s.samples])));
      const theirs = toInt16(official[i].audio);
      const lengthDiff = Math.abs(mine.length - theirs.length) / theirs.length;
      // The best lag either way round (findBetween only looks forward).
      const { correlation, lag } = [findBetween(mine, theirs, 0, MAX_LAG), findBetween(theirs, mine, 0, MAX_LAG)].reduce((a, b) => (b.correlation > a.correlation ? b : a));
      lengths.push(lengthDiff);
      correlations.push(correlation);
      console.log(`      ${(lengthDiff * 100).toFixed(2)} % length, correlation ${correlation.toFixed(4)} at lag ${lag}: "${text.slice(0, 50)}"`);
      assert.ok(lengthDiff <= 0.01, `length ${mine.length} vs official ${theirs.length} for "${text}"`);
      assert.ok(correlation >= 0.98, `correlation ${correlation.toFixed(4)} for "${text}"`);
    });
    console.log(`      length difference max ${(Math.max(...lengths) * 100).toFixed(2)} %, median ${(median(lengths) * 100).toFixed(2)} %; correlation min ${Math.min(...correlations).toFixed(4)}, median ${median(correlations).toFixed(4)}`);
  });

  it(`is understood: ${JUDGE} writes piper-tts's audio of the ${TEXTS.length} texts at WER <= 8 %`, async function () {
    if (!judgePython()) {
      console.log(`      skipped: no model (${JUDGE}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    const clips = (audio: Float32Array[]) => audio.map((samples) => ({ samples, sampleRate: official[0].sampleRate }));
    const heardOurs = await judgeAudio(clips(ours.map((parts) => Float32Array.from(parts.flatMap((s) => [...s.samples])))));
    const heardOfficial = await judgeAudio(clips(official.map((t) => t.audio)));
    const score = (heard: string[]) => {
      let errors = 0;
      let words = 0;
      TEXTS.forEach((t, i) => {
        const ref = listenerWords(t.heard ?? t.text);
        errors += wordErrors(ref, listenerWords(heard[i]));
        words += ref.length;
      });
      return { errors, words, rate: errors / words };
    };
    TEXTS.forEach((t, i) => {
      const e = wordErrors(listenerWords(t.heard ?? t.text), listenerWords(heardOurs[i]));
      if (e) console.log(`      ${e} error(s): "${t.heard ?? t.text}" → "${heardOurs[i]}" (official Piper: "${heardOfficial[i]}")`);
    });
    const mine = score(heardOurs);
    const theirs = score(heardOfficial);
    console.log(`      WER piper-tts ${(mine.rate * 100).toFixed(1)} %, official Piper ${(theirs.rate * 100).toFixed(1)} % over ${mine.words} words`);
    assert.ok(mine.rate <= 0.08, `WER ${(mine.rate * 100).toFixed(1)} % over ${mine.words} words`);
  });

  it('skips a phoneme its voice lacks, as the official Piper does (same ids, the symbol reported)', async () => {
    const bad = join(dir, 'bad');
    const config = JSON.parse(readFileSync(join(voiceDir!, 'voice.onnx.json'), 'utf8')) as { phoneme_id_map: Record<string, number[]> };
    delete config.phoneme_id_map['ð'];
    mkdirSync(bad);
    symlinkSync(join(voiceDir!, 'voice.onnx'), join(bad, 'voice.onnx'));
    writeFileSync(join(bad, 'voice.onnx.json'), JSON.stringify(config));
    const text = 'The weather is sunny this morning.';
    const host = new EngineHost({ modulePath: require.resolve('../../lib/tts/piper-engine'), name: 'tts', options: { modelPath: join(bad, 'voice.onnx') } });
    try {
      const parts: SentenceAudio[] = [];
      const result = await host.call<{ unknownPhonemes: string[] }>('synthesize', { text, ...DETERMINISTIC }, { onChunk: (c) => parts.push(c as SentenceAudio) });
      const reference = await officialPiper(join(bad, 'voice.onnx'), [text], join(dir, 'bad-official'));
      assert.deepEqual(result.unknownPhonemes, ['ð']);
      assert.match(reference.warnings, /Missing phoneme from id map: ð/);
      assert.deepEqual(
        parts.map((s) => phonemeIds(s.phonemes, config.phoneme_id_map).ids),
        reference.texts[0].sentences.map((s) => s.ids),
      );
      assert.ok(parts[0].samples.length > 0.9 * reference.texts[0].audio.length, 'the sentence is still spoken');
    } finally {
      await host.close();
    }
  });
});
