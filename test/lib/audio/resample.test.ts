import assert from 'node:assert/strict';
import { resample, Resampler } from '../../../lib/audio/resample';

const tone = (hz: number, rate: number, seconds: number, phase = 0) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate + phase));

/** Signal-to-error ratio in dB against the ideal signal, skipping the filter's edges. */
function snr(actual: Float32Array, ideal: Float32Array, skip: number): number {
  let sig = 0;
  let err = 0;
  for (let i = skip; i < Math.min(actual.length, ideal.length) - skip; i++) {
    sig += ideal[i] ** 2;
    err += (actual[i] - ideal[i]) ** 2;
  }
  return 10 * Math.log10(sig / err);
}

describe('Resampler', () => {
  for (const rate of [8000, 11025, 22050, 44100, 48000]) {
    it(`converts ${rate} Hz to 16 kHz with the tone intact (> 40 dB SNR)`, () => {
      const input = tone(440, rate, 0.5);
      const out = resample(input, rate, 16000);
      assert.equal(out.length, Math.round((input.length * 16000) / rate));
      assert.ok(snr(out, tone(440, 16000, 0.5), 200) > 40);
    });
  }

  it('converts 16 kHz up to 48 kHz for a speaker', () => {
    const out = resample(tone(1000, 16000, 0.25), 16000, 48000);
    assert.ok(snr(out, tone(1000, 48000, 0.25), 600) > 40);
  });

  it('gives the same samples frame by frame as in one piece (state carried across frames)', () => {
    const input = tone(523, 44100, 1);
    const whole = new Resampler(44100, 16000);
    const oneShot = Float32Array.from([...whole.push(input), ...whole.flush()]);
    const streaming = new Resampler(44100, 16000);
    const parts: number[] = [];
    for (let i = 0; i < input.length; i += 441) parts.push(...streaming.push(input.subarray(i, i + 441)));
    parts.push(...streaming.flush());
    assert.equal(parts.length, oneShot.length);
    let maxDiff = 0;
    for (let i = 0; i < parts.length; i++) maxDiff = Math.max(maxDiff, Math.abs(parts[i] - oneShot[i]));
    assert.ok(maxDiff < 1e-6, `max difference ${maxDiff}`);
  });

  it('removes content above the new Nyquist frequency instead of aliasing it', () => {
    const out = resample(tone(12000, 48000, 0.5), 48000, 16000);
    let energy = 0;
    for (let i = 200; i < out.length - 200; i++) energy += out[i] ** 2;
    const level = 10 * Math.log10(energy / (out.length - 400) / 0.125);
    assert.ok(level < -40, `aliased 12 kHz tone at ${level.toFixed(1)} dB`);
  });

  it('keeps a constant constant and passes 16 kHz through untouched', () => {
    const out = resample(new Float32Array(4410).fill(0.25), 44100, 16000);
    for (let i = 100; i < out.length - 100; i++) assert.ok(Math.abs(out[i] - 0.25) < 1e-4);
    const same = new Float32Array([1, 2, 3]);
    assert.equal(resample(same, 16000, 16000), same);
  });
});
