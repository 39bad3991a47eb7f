import assert from 'node:assert/strict';
import { PlaybackQueue, spokenText, type TurnReport } from '../../../lib/audio-io/playback-queue';

const FORMAT = { sampleRate: 16000, framesPerBuffer: 320 };

describe('playback queue (no device attached)', () => {
  it('keeps at most 30 s of audio while no device is there: the oldest turns are cut', () => {
    const ended: TurnReport[] = [];
    const queue = new PlaybackQueue(FORMAT, { started: () => undefined, ended: (r) => ended.push(r) });
    for (let i = 0; i < 4; i++) queue.enqueue({ turnId: `t-${i}`, samples: new Int16Array(16000 * 10), complete: true });
    assert.deepEqual(
      ended.map((r) => [r.turnId, r.cut, r.playedMs]),
      [['t-0', true, 0]],
    );
    queue.close();
  });
});

describe('spokenText', () => {
  const sentences = [
    { text: 'The lights are on.', start: 0, end: 1000 },
    { text: 'I closed all four blinds.', start: 1000, end: 2000 },
  ];
  it('is every sentence when all was played', () => assert.equal(spokenText(sentences, 2000), 'The lights are on. I closed all four blinds.'));
  it('keeps the share of a cut sentence\'s words that was played', () => assert.equal(spokenText(sentences, 1500), 'The lights are on. I closed'));
  it('is empty when nothing was heard, and unknown without texts', () => {
    assert.equal(spokenText(sentences, 0), '');
    assert.equal(spokenText([], 500), undefined);
  });
});
