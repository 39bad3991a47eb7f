import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlaybackQueue, spokenText, type TurnReport } from '../../../lib/audio-io/playback-queue';
import { WavFileOutput } from '../../../lib/audio-io/wav-file-output';
import { sleep, until } from '../../support/wait';

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

describe('playback queue on a WAV sink (real-time pace)', function () {
  this.timeout(20_000);

  it('keeps a spoken reply one turn across a slow LLM pause, so a barge-in reports all that was said', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-queue-'));
    const started: string[] = [];
    const ended: TurnReport[] = [];
    const queue = new PlaybackQueue(FORMAT, { started: (id) => started.push(id), ended: (r) => ended.push(r) });
    const sink = new WavFileOutput(join(dir, 'out.wav'), FORMAT.sampleRate, FORMAT.framesPerBuffer, () => queue.onPlayed());
    queue.attach(sink);
    try {
      queue.enqueue({ turnId: 't-1', samples: new Int16Array(8000).fill(3000), text: 'First sentence here.' });
      await sleep(2500); // the next sentence is 2 s late
      queue.enqueue({ turnId: 't-1', samples: new Int16Array(8000).fill(3000), text: 'Second one follows now.' });
      await sleep(300);
      queue.cancel(() => true);
      await until(() => ended.length === 1, 5000, 'the cut');
      assert.deepEqual(started, ['t-1']);
      assert.equal(ended[0].cut, true);
      assert.match(ended[0].spokenText ?? '', /^First sentence here\. Second/);
    } finally {
      queue.close();
      sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('still ends plain audio (no sentence texts, no end mark) after a second of quiet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-queue-'));
    const ended: TurnReport[] = [];
    const queue = new PlaybackQueue(FORMAT, { started: () => undefined, ended: (r) => ended.push(r) });
    const sink = new WavFileOutput(join(dir, 'out.wav'), FORMAT.sampleRate, FORMAT.framesPerBuffer, () => queue.onPlayed());
    queue.attach(sink);
    try {
      queue.enqueue({ turnId: 't-plain', samples: new Int16Array(3200).fill(3000) });
      await until(() => ended.length === 1, 5000, 'the idle end');
      assert.equal(ended[0].cut, false);
    } finally {
      queue.close();
      sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
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
