import assert from 'node:assert/strict';
import { bufferToInt16, dbfs, downmix, float32ToS16le, rms, s16leToFloat32 } from '../../../lib/audio/pcm';

describe('pcm conversions', () => {
  it('round-trips s16le through float32 exactly', () => {
    const ints = Int16Array.from([0, 1, -1, 32767, -32768, 1234, -4321]);
    const bytes = Buffer.from(ints.buffer);
    const back = bufferToInt16(float32ToS16le(s16leToFloat32(bytes)));
    assert.deepEqual(Array.from(back), Array.from(ints));
  });

  it('reads a Buffer that starts at an odd byte offset', () => {
    const backing = Buffer.alloc(7);
    backing.writeInt16LE(-2, 1);
    backing.writeInt16LE(300, 3);
    const odd = backing.subarray(1, 5);
    assert.deepEqual(Array.from(bufferToInt16(odd)), [-2, 300]);
  });

  it('clips out-of-range floats and refuses NaN with a readable error', () => {
    assert.deepEqual(Array.from(bufferToInt16(float32ToS16le(Float32Array.from([2, -2])))), [32767, -32768]);
    assert.throws(() => float32ToS16le(Float32Array.from([0, NaN])), { name: 'AudioFrameError', code: 'NOT_A_NUMBER', message: /sample 1 is NaN/ });
  });

  it('measures level: a full-scale sine is -3 dBFS, silence is -Infinity', () => {
    const sine = Float32Array.from({ length: 16000 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 16000));
    assert.ok(Math.abs(rms(sine) - Math.SQRT1_2) < 1e-3);
    assert.ok(Math.abs(dbfs(sine) + 3.01) < 0.02);
    assert.equal(dbfs(new Float32Array(10)), -Infinity);
    assert.equal(rms(new Float32Array(0)), 0);
  });

  it('averages interleaved channels', () => {
    assert.deepEqual(Array.from(downmix(Float32Array.from([1, 0, 0.5, 0.5]), 2)), [0.5, 0.5]);
  });
});
