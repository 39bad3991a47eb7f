import assert from 'node:assert/strict';
import { VadStream } from '../../../lib/vad/vad-stream';
import { TEST_VAD } from '../../support/vad';
import { chunks, clip } from './clips';

describe('VadStream (the millisecond view of lib/vad for voiceprint)', () => {
  it('reports the utterance in milliseconds of stream time, with its samples', async () => {
    const vad = new VadStream(TEST_VAD);
    const events = [...chunks(await clip('arctic_axb_a0005'), 320, (c) => vad.push(c)), ...vad.flush()];
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'speech-end'],
    );
    const end = events[1] as Extract<(typeof events)[number], { type: 'speech-end' }>;
    // The onset estimate voiceprint was tuned with: 40 ms after the segment's start.
    assert.equal(events[0].speechStartMs, end.speechStartMs + 40);
    assert.equal(end.samples.length, ((end.speechEndMs - end.speechStartMs) * 16000) / 1000);
    assert.ok(end.atMs > end.speechEndMs);
  });
});
