import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readWavMono } from '../../../lib/audio/wav';
import { VadStream, type VadEvent } from '../../../lib/asr/vad-stream';
import { TESTDATA } from '../../support/paths';
import { TEST_VAD } from '../../support/vad';

const settings = TEST_VAD;

/**
 * The true boundaries of speech in a clean clip, found independently of the
 * VAD: the first and last 10 ms frame whose energy is within 35 dB of the
 * clip's loudest frame (the ARCTIC clips are studio-quiet between words).
 */
function energyBoundaries(samples: Float32Array): { startMs: number; endMs: number } {
  const frame = 160;
  const db: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let sum = 0;
    for (let k = 0; k < frame; k++) sum += samples[i + k] ** 2;
    db.push(10 * Math.log10(sum / frame + 1e-12));
  }
  const peak = Math.max(...db);
  const loud = db.map((d, i) => (d > peak - 35 ? i : -1)).filter((i) => i >= 0);
  return { startMs: loud[0] * 10, endMs: (loud.at(-1)! + 1) * 10 };
}

/** Feeds a clip in 20 ms frames after `lead` and before `tail` seconds of silence. */
function run(samples: Float32Array, lead = 1, tail = 1.5): VadEvent[] {
  const vad = new VadStream(settings);
  const audio = new Float32Array(Math.round((lead + tail) * 16000) + samples.length);
  audio.set(samples, lead * 16000);
  const events: VadEvent[] = [];
  for (let i = 0; i < audio.length; i += 320) events.push(...vad.push(audio.subarray(i, i + 320)));
  return [...events, ...vad.flush()];
}

describe('VadStream (real Silero VAD on real clips)', () => {
  for (const clip of ['arctic_aew_a0001', 'arctic_aew_a0002', 'arctic_axb_a0004', 'arctic_axb_a0005']) {
    it(`${clip}: one utterance, start and end within 100 ms of the true boundaries`, async () => {
      const { samples } = await readWavMono(join(TESTDATA, `${clip}.wav`));
      const truth = energyBoundaries(samples);
      const events = run(samples);
      assert.deepEqual(
        events.map((e) => e.type),
        ['speech-start', 'speech-end'],
      );
      const [start, end] = events as [VadEvent & { type: 'speech-start' }, VadEvent & { type: 'speech-end' }];
      const lead = 1000;
      assert.ok(Math.abs(start.speechStartMs - lead - truth.startMs) <= 100, `start ${start.speechStartMs - lead} vs ${truth.startMs}`);
      assert.ok(Math.abs(end.speechStartMs - lead - truth.startMs) <= 100, `segment start ${end.speechStartMs - lead} vs ${truth.startMs}`);
      assert.ok(Math.abs(end.speechEndMs - lead - truth.endMs) <= 100, `end ${end.speechEndMs - lead} vs ${truth.endMs}`);
      // speech-start comes while the user speaks (barge-in), speech-end after the end-of-speech silence.
      assert.ok(start.atMs < end.speechEndMs && start.atMs - start.speechStartMs < 400);
      assert.ok(end.atMs >= end.speechEndMs + 400 && end.atMs <= end.speechEndMs + 700);
      assert.equal(end.samples.length, Math.round(((end.speechEndMs - end.speechStartMs) * 16000) / 1000));
    });
  }

  it('finds nothing in six seconds of washing-up noise', async () => {
    const { samples } = await readWavMono(join(TESTDATA, 'noise_dishes_6s.wav'));
    assert.deepEqual(run(samples), []);
  });

  it('cuts a long recording into its utterances', async () => {
    const { samples } = await readWavMono(join(TESTDATA, 'silero_vad_test_60s.wav'));
    const ends = run(samples, 0, 1).filter((e) => e.type === 'speech-end');
    assert.ok(ends.length >= 6 && ends.length <= 8, `${ends.length} utterances`);
  });

  it('does not grow in memory over an hour of silence', () => {
    const vad = new VadStream(settings);
    const silence = new Float32Array(16000);
    for (let s = 0; s < 60; s++) vad.push(silence); // warm-up
    const before = process.memoryUsage().rss;
    let events = 0;
    for (let s = 0; s < 3600; s++) events += vad.push(silence).length;
    const grownMb = (process.memoryUsage().rss - before) / 1e6;
    assert.equal(events, 0);
    assert.ok(grownMb < 20, `grew ${grownMb.toFixed(1)} MB`);
  });
});
