import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Resampler } from '../../../lib/audio/resample';
import { SileroVad, type SpeechEnd, type SpeechStart, type VadEvent } from '../../../lib/vad/silero-vad';
import { SHARED_MODELS } from '../../support/paths';
import { chunks, clip, energyBoundaries, RATE } from './clips';

const model = join(SHARED_MODELS, 'vad', 'silero_vad.onnx');
const ms = (samples: number) => (samples / RATE) * 1000;

/** Feeds audio in 20 ms chunks (or `size`), then ends the stream. */
function run(audio: Float32Array, size = 320, vad = new SileroVad({ model })): VadEvent[] {
  return [...chunks(audio, size, (c) => vad.push(c)), ...vad.flush()];
}

describe('SileroVad (lib/vad, real Silero v6.2 on the shared clips)', () => {
  const LEAD = RATE; // the clips below get 1 s of silence before them

  for (const name of ['arctic_aew_a0001', 'arctic_aew_a0002', 'arctic_axb_a0004', 'arctic_axb_a0005']) {
    it(`${name}: one utterance, start and end within 100 ms of the energy boundaries`, async () => {
      const audio = await clip(name);
      const truth = energyBoundaries(audio.subarray(LEAD));
      const events = run(audio);
      assert.deepEqual(
        events.map((e) => e.type),
        ['speech-start', 'speech-end'],
      );
      const [start, end] = events as [SpeechStart, SpeechEnd];
      assert.ok(Math.abs(ms(start.start - LEAD - truth.start)) <= 100, `start ${ms(start.start - LEAD)} vs ${ms(truth.start)} ms`);
      assert.ok(Math.abs(ms(end.end - LEAD - truth.end)) <= 100, `end ${ms(end.end - LEAD)} vs ${ms(truth.end)} ms`);
      assert.equal(start.start, end.start, 'speech-start dates the onset exactly where the segment begins');
      // speech-start while the user speaks (the barge-in), about min speech after the onset;
      // speech-end once the end-of-speech silence has passed.
      assert.ok(ms(start.at - start.start) >= 250 && ms(start.at - start.start) <= 400, `detected after ${ms(start.at - start.start)} ms`);
      assert.ok(ms(end.at - end.end) >= 500 && ms(end.at - end.end) <= 700, `ended ${ms(end.at - end.end)} ms after the speech`);
      assert.equal(end.reason, 'silence');
      assert.equal(end.samples.length, end.end - end.start);
      assert.deepEqual(end.samples, audio.subarray(end.start, end.end));
    });
  }

  for (const rate of [8000, 44100, 48000]) {
    it(`keeps the boundaries of speech captured at ${rate / 1000} kHz and resampled frame by frame`, async () => {
      const audio16 = await clip('arctic_aew_a0001');
      const truth = energyBoundaries(audio16.subarray(LEAD));
      const device = new Resampler(RATE, rate).push(audio16);
      const toSpeech = new Resampler(rate, RATE);
      const vad = new SileroVad({ model });
      const events = [...chunks(device, rate / 50, (c) => vad.push(toSpeech.push(c))), ...vad.flush()];
      const end = events.find((e): e is SpeechEnd => e.type === 'speech-end')!;
      assert.equal(events.length, 2);
      assert.ok(Math.abs(ms(end.start - LEAD - truth.start)) <= 100, `start ${ms(end.start - LEAD)} vs ${ms(truth.start)}`);
      assert.ok(Math.abs(ms(end.end - LEAD - truth.end)) <= 100, `end ${ms(end.end - LEAD)} vs ${ms(truth.end)}`);
    });
  }

  it('gives the same events whatever the chunk size', async () => {
    const audio = await clip('arctic_axb_a0004');
    const strip = (events: VadEvent[]) => events.map((e) => (e.type === 'speech-end' ? { ...e, samples: e.samples.length } : e));
    const reference = strip(run(audio, 320));
    for (const size of [1, 100, 512, 4000, RATE * 10]) {
      const events = strip(run(audio, size));
      // Positions are exact; `at` is the end of the chunk in which the VAD decided.
      assert.deepEqual(
        events.map((e) => ({ ...e, at: 0 })),
        reference.map((e) => ({ ...e, at: 0 })),
        `chunks of ${size}`,
      );
    }
  });

  it('finds nothing in six seconds of washing-up noise', async () => {
    assert.deepEqual(run(await clip('noise_dishes_6s')), []);
  });

  it('cuts 60 s of speech into the 7 utterances sherpa-onnx found (MANIFEST.md)', async () => {
    // Segment starts from shared/models/MANIFEST.md (same model and settings, bare sherpa-onnx Vad).
    const manifest = [0.0, 2.65, 9.31, 20.32, 39.87, 48.83, 51.07];
    const ends = run(await clip('silero_vad_test_60s', 0, 1)).filter((e): e is SpeechEnd => e.type === 'speech-end');
    assert.deepEqual(
      ends.map((e) => Math.round(e.start / 160) / 100),
      manifest.map((s) => Math.max(0, Math.round(s * 100) / 100)),
    );
  });

  it('cuts speech longer than max speech and goes on with a new utterance at the cut', async () => {
    const audio = await clip('arctic_aew_a0001'); // 3.5 s of speech, still going at the cut 3 s in
    const truth = energyBoundaries(audio.subarray(LEAD));
    const events = run(audio, 320, new SileroVad({ model, maxSpeech: 3 }));
    assert.deepEqual(
      events.map((e) => (e.type === 'speech-end' ? e.reason : e.type)),
      ['speech-start', 'max-length', 'speech-start', 'silence'],
    );
    const [, cut, next, last] = events as [SpeechStart, SpeechEnd, SpeechStart, SpeechEnd];
    assert.ok(ms(cut.end - cut.start) <= 3000 && ms(cut.end - cut.start) >= 3000 - 64, `${ms(cut.end - cut.start)} ms`);
    // The VAD starts afresh at the cut: a new barge-in about min speech later.
    assert.ok(ms(next.at - cut.at) <= 600, `speech-start ${ms(next.at - cut.at)} ms after the cut`);
    // No audio lost or heard twice: the speech goes on, so the next piece starts where the last was cut.
    assert.equal(next.start, cut.end);
    assert.equal(last.start, next.start);
    // Together the two pieces are the speech, on the stream's clock.
    assert.ok(Math.abs(ms(cut.start - LEAD - truth.start)) <= 100, `start ${ms(cut.start - LEAD)} vs ${ms(truth.start)} ms`);
    assert.ok(ms(last.end - LEAD - truth.end) >= -100, `end ${ms(last.end - LEAD)} vs ${ms(truth.end)} ms`);
    for (const e of [cut, last]) assert.deepEqual(e.samples, audio.subarray(e.start, e.end));
  });

  it('ends an utterance in progress on flush', async () => {
    const audio = await clip('arctic_aew_a0001', 1, 0);
    const vad = new SileroVad({ model });
    const events = chunks(audio.subarray(0, 2 * RATE), 320, (c) => vad.push(c));
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start'],
    );
    assert.ok(vad.speaking);
    const [end] = vad.flush() as SpeechEnd[];
    assert.equal(end.reason, 'flush');
    assert.equal(vad.speaking, false);
    assert.equal(vad.position, 2 * RATE);
  });

  // A recording stopped (mic-in stop, mute) and started again. Silero itself
  // was left "in speech" by the flush: the silence after it got a speech-start
  // in its first window (a false barge-in), and a flush in the end-of-speech
  // silence gave an empty utterance (sherpa-onnx: circular-buffer Invalid n).
  for (const [when, cutMs] of [
    ['mid-speech', 2000],
    ['in the silence before speech-end', 4990], // the speech ends at 4.69 s
  ] as const) {
    it(`is out of speech after a flush ${when}: silence stays silent, later speech keeps stream positions`, async () => {
      const vad = new SileroVad({ model });
      const cut = (cutMs / 1000) * RATE;
      const before = chunks((await clip('arctic_aew_a0001')).subarray(0, cut), 320, (c) => vad.push(c));
      const [flushed] = vad.flush() as SpeechEnd[];
      assert.deepEqual(
        [...before.map((e) => e.type), flushed.reason],
        ['speech-start', 'flush'],
      );

      const silence = new Float32Array(2 * RATE);
      assert.deepEqual(
        chunks(silence, 320, (c) => vad.push(c)),
        [],
        'no speech in the silence after the flush',
      );
      assert.equal(vad.speaking, false);
      assert.equal(vad.position, cut + silence.length);

      // Speech after the flush: found where it is, on the stream's clock (no restart at 0).
      // (aew_a0002: its boundaries hold whatever the 512-sample window alignment, which the cut shifts.)
      const offset = vad.position;
      const audio = await clip('arctic_aew_a0002');
      const truth = energyBoundaries(audio.subarray(LEAD));
      const events = [...chunks(audio, 320, (c) => vad.push(c)), ...vad.flush()];
      assert.deepEqual(
        events.map((e) => e.type),
        ['speech-start', 'speech-end'],
      );
      const [start, end] = events as [SpeechStart, SpeechEnd];
      assert.equal(start.start, end.start);
      assert.ok(start.start >= flushed.end, 'positions only go forward');
      assert.ok(Math.abs(ms(end.start - offset - LEAD - truth.start)) <= 100, `start ${ms(end.start - offset - LEAD)} vs ${ms(truth.start)} ms`);
      assert.ok(Math.abs(ms(end.end - offset - LEAD - truth.end)) <= 100, `end ${ms(end.end - offset - LEAD)} vs ${ms(truth.end)} ms`);
      assert.ok(ms(start.at - start.start) >= 250 && ms(start.at - start.start) <= 400, `detected after ${ms(start.at - start.start)} ms`);
      assert.equal(end.reason, 'silence');
      assert.deepEqual(end.samples, audio.subarray(end.start - offset, end.end - offset));
    });
  }

  // The max-length cut ends the segment with sherpa-onnx's flush() too. Cut in
  // the end-of-speech silence (the user had just stopped), Silero was left
  // counting that silence: the silence after the cut opened a phantom
  // utterance (a false barge-in) and sherpa-onnx logged circular-buffer Invalid n.
  it('is out of speech after a max-length cut in the silence before speech-end: silence stays silent', async () => {
    const audio = await clip('arctic_aew_a0001', 1, 5);
    const truth = energyBoundaries(audio.subarray(LEAD));
    // The speech starts at 1.12 s and ends at 4.71 s (speech-end due at 5.34 s): cut 3.9 s after the start.
    const events = run(audio, 320, new SileroVad({ model, maxSpeech: 3.9 }));
    assert.deepEqual(
      events.map((e) => (e.type === 'speech-end' ? e.reason : e.type)),
      ['speech-start', 'max-length'],
      'nothing in the 4.5 s of silence after the cut',
    );
    const cut = events[1] as SpeechEnd;
    assert.ok(cut.at - LEAD - truth.end >= 0.2 * RATE && cut.at - LEAD - truth.end <= 0.4 * RATE, `cut ${ms(cut.at - LEAD - truth.end)} ms after the speech`);
  });

  it('starts its clock again on reset', async () => {
    const audio = await clip('arctic_axb_a0005');
    const vad = new SileroVad({ model });
    const first = run(audio, 320, vad);
    vad.reset();
    assert.equal(vad.position, 0);
    assert.deepEqual(
      run(audio, 320, vad).map((e) => e.type === 'speech-end' && e.start),
      first.map((e) => e.type === 'speech-end' && e.start),
    );
  });

  it('refuses a missing model and settings out of range, naming them', () => {
    assert.throws(() => new SileroVad({ model: '/nowhere/silero.onnx' }), { code: 'VAD_MISSING', statusText: 'no VAD: see debug', message: /\/nowhere\/silero\.onnx/ });
    assert.throws(() => new SileroVad({ model: '' }), { code: 'VAD_MISSING', message: /no Silero VAD model chosen, and none installed: run "npx realtime-voice models pull vad-silero"/ });
    assert.throws(() => new SileroVad({ model, threshold: 1.5 }), { code: 'BAD_SETTING', message: /threshold 1\.5/ });
    assert.throws(() => new SileroVad({ model, minSpeech: 0 }), { code: 'BAD_SETTING', message: /min speech/ });
    assert.throws(() => new SileroVad({ model, minSilence: -1 }), { code: 'BAD_SETTING', message: /silence/ });
    assert.throws(() => new SileroVad({ model, maxSpeech: 0.1 }), { code: 'BAD_SETTING', message: /max utterance/ });
  });
});
