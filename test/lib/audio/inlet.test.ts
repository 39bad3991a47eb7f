import assert from 'node:assert/strict';
import { AudioInlet } from '../../../lib/audio/inlet';
import { int16ToBuffer } from '../../../lib/audio/pcm';
import { resample } from '../../../lib/audio/resample';

/** A 440 Hz tone, `seconds` long, at `rate`, as Int16. */
const tone = (rate: number, seconds: number, channels = 1) =>
  Int16Array.from({ length: Math.round(rate * seconds) * channels }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * Math.floor(i / channels)) / rate)));

describe('AudioInlet: any frame to mono at the node rate', () => {
  it('passes mono frames at its rate through as they are: no copy', () => {
    const samples = tone(16000, 0.02);
    const bytes = int16ToBuffer(samples);
    const inlet = new AudioInlet(16000);
    assert.equal(inlet.toInt16(bytes, 16000).buffer, samples.buffer);
    assert.deepEqual(Array.from(inlet.toFloat(bytes, 16000).subarray(0, 3)), Array.from(samples.subarray(0, 3), (s) => s / 32768));
  });

  it('mixes channels down and converts the rate frame by frame as one stream, the last frame draining the filter', () => {
    const stereo = tone(48000, 0.2, 2);
    const inlet = new AudioInlet(16000);
    const frame = 960 * 2; // 20 ms of 48 kHz stereo
    const parts: Float32Array[] = [];
    for (let at = 0; at < stereo.length; at += frame) parts.push(inlet.toFloat(stereo.subarray(at, at + frame), 48000, 2, at + frame >= stereo.length));
    const streamed = Float32Array.from(parts.flatMap((p) => Array.from(p)));
    const mono = Float32Array.from({ length: stereo.length / 2 }, (_, i) => stereo[2 * i] / 32768);
    const whole = resample(mono, 48000, 16000);
    assert.equal(streamed.length, whole.length, 'the drained stream is as long as the one-shot conversion');
    assert.ok(streamed.every((s, i) => Math.abs(s - whole[i]) < 1e-6), 'frame by frame = all at once: no click at frame edges');
  });

  it('starts a new converter when the input rate changes', () => {
    const inlet = new AudioInlet(16000);
    inlet.toInt16(tone(48000, 0.02), 48000);
    const after = inlet.toInt16(tone(8000, 0.1), 8000, 1, true);
    assert.equal(after.length, 1600, '0.1 s at 8 kHz is 0.1 s at 16 kHz');
  });
});
