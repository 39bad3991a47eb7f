import assert from 'node:assert/strict';
import { Framer } from '../../../lib/audio/framer';

describe('Framer', () => {
  it('cuts uneven pushes into 20 ms frames and keeps the remainder', () => {
    const framer = Framer.forDuration(16000, 20);
    assert.equal(framer.frameSamples, 320);
    const input = Int16Array.from({ length: 1000 }, (_, i) => i);
    const frames = [...framer.push(input.subarray(0, 100)), ...framer.push(input.subarray(100, 700)), ...framer.push(input.subarray(700))];
    assert.equal(frames.length, 3);
    assert.deepEqual(Array.from(frames[1].subarray(0, 3)), [320, 321, 322]);
    const last = framer.flush();
    assert.equal(last?.length, 40);
    assert.equal(last?.[0], 960);
    assert.equal(framer.flush(), undefined);
  });

  it('hands out frames that later pushes do not overwrite', () => {
    const framer = new Framer(2);
    const [a] = framer.push(Int16Array.from([1, 2]));
    framer.push(Int16Array.from([3, 4]));
    assert.deepEqual(Array.from(a), [1, 2]);
  });

  it('refuses a frame size of zero', () => {
    assert.throws(() => new Framer(0), RangeError);
  });
});
