import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AsrEvent, AsrOptions } from '../../../lib/asr/asr-engine';
import { EngineHost } from '../../../lib/engine/host';
import { writeTinyAsrModel, writeTinyStreamingAsrModel } from '../../support/tiny-asr-model';
import { SMART_TURN, installedModel } from '../../support/real-models';
import { MAKE_TEST_VENV } from '../../support/test-venv';
import { TEST_VAD } from '../../support/vad';
import { turnClips } from '../turn/turn-clips';
import { clip, RATE } from '../vad/clips';

const ENGINE = require.resolve('../../../lib/asr/asr-engine');
type Of<T extends AsrEvent['type']> = Extract<AsrEvent, { type: T }>;

/** Sends audio in 20 ms frames as the node does; returns every event, in order. */
async function feed(host: EngineHost, audio: Float32Array, flush = true): Promise<AsrEvent[]> {
  const events: AsrEvent[] = [];
  for (let i = 0; i < audio.length; i += 320) events.push(...(await host.call<AsrEvent[]>('audio', audio.slice(i, i + 320))));
  if (flush) events.push(...(await host.call<AsrEvent[]>('flush')));
  return events;
}
const of = <T extends AsrEvent['type']>(events: AsrEvent[], type: T) => events.filter((e): e is Of<T> => e.type === type);

describe('asr engine in a worker (real Silero VAD, tiny sherpa-onnx recognisers)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-asr-'));
  const offline = writeTinyAsrModel(dir);
  const streaming = writeTinyStreamingAsrModel(dir);
  let host: EngineHost;
  const start = (options: Partial<AsrOptions>) => {
    host = new EngineHost({ modulePath: ENGINE, name: 'asr', options: { vad: TEST_VAD, modelDir: '', ...options } });
    return host.start();
  };
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => host?.close());

  it('per-utterance model: sherpa-onnx decodes exactly the speech the VAD cut', async () => {
    assert.deepEqual(await start({ modelDir: offline }), { kind: 'nemo-ctc', streaming: false });
    const events = await feed(host, await clip('arctic_axb_a0004'));
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'speech-end', 'final'],
    );
    const [begin, end, final] = events as [Of<'speech-start'>, Of<'speech-end'>, Of<'final'>];
    assert.match(final.text, /^s+$/, 'the tiny model writes "s" for loud frames: its decoder ran on the speech');
    assert.deepEqual([begin.utterance, end.utterance, final.utterance], [1, 1, 1]);
    assert.deepEqual([final.start, final.end, final.at], [end.start, end.end, end.at]);
    assert.equal(begin.start, end.start);
    assert.ok(final.decodeMs >= 0 && final.computeMs >= final.decodeMs);
  });

  it('sends each event as a chunk the moment it happens: speech-end goes ahead of the final decode', async () => {
    await start({ modelDir: offline });
    const audio = await clip('arctic_axb_a0005');
    const chunks: AsrEvent[] = [];
    for (let i = 0; i < audio.length; i += 320) {
      const before = chunks.length;
      const r = await host.call<AsrEvent[]>('audio', audio.slice(i, i + 320), { onChunk: (c) => chunks.push(c as AsrEvent) });
      assert.deepEqual(chunks.slice(before), r, 'every event arrives as a chunk before the call resolves');
    }
    assert.deepEqual(
      chunks.map((e) => e.type),
      ['speech-start', 'speech-end', 'final'],
    );
  });

  it('streaming model: partial transcripts while the user speaks, then the final one', async () => {
    assert.deepEqual(await start({ modelDir: streaming }), { kind: 'streaming-ctc', streaming: true });
    const events = await feed(host, await clip('arctic_aew_a0001'));
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'speech-start');
    assert.deepEqual(types.slice(-2), ['speech-end', 'final']);
    const partials = of(events, 'partial');
    assert.ok(partials.length >= 3, `${partials.length} partials`);
    assert.ok(
      partials.every((p, i) => i === 0 || (p.text.length > partials[i - 1].text.length && p.at > partials[i - 1].at)),
      'each partial extends the last',
    );
    const final = of(events, 'final')[0];
    assert.match(final.text, /^s+$/);
    assert.ok(final.text.startsWith(partials.at(-1)!.text));
    assert.ok(final.computeMs > final.decodeMs, 'the partials cost counts towards the utterance');
  });

  it('numbers the utterances of a stream', async () => {
    await start({ modelDir: offline });
    const two = new Float32Array([...(await clip('arctic_axb_a0005')), ...(await clip('arctic_axb_a0004'))]);
    const events = await feed(host, two);
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.utterance}`),
      ['speech-start:1', 'speech-end:1', 'final:1', 'speech-start:2', 'speech-end:2', 'final:2'],
    );
  });

  for (const [name, model] of [
    ['per-utterance', () => offline],
    ['streaming', () => streaming],
  ] as const) {
    it(`paused (${name}): speech-start and speech-end stay instant, recognition waits for resume and then catches up`, async () => {
      await start({ modelDir: model() });
      const audio = await clip('arctic_aew_a0002');
      const reference = of(await feed(host, audio), 'final')[0].text;
      await host.close();
      await start({ modelDir: model() }); // the same stream positions as the reference run

      const speaking = 2 * RATE; // 1 s of silence, then 1 s into the sentence
      const before = await feed(host, audio.subarray(0, speaking), false);
      await host.call('pause');
      const during = await feed(host, audio.subarray(speaking), false);
      assert.deepEqual(
        during.map((e) => e.type),
        ['speech-end'],
        'nothing decoded while paused',
      );
      assert.equal(before[0].type, 'speech-start');
      const after = await host.call<AsrEvent[]>('resume');
      assert.deepEqual(
        after.map((e) => e.type),
        ['final'],
        'the utterance ended while paused: its final, no stale partials',
      );
      assert.equal((after[0] as Of<'final'>).text, reference, 'the same text as without the pause');
      assert.equal(after[0].utterance, before[0].utterance);
    });
  }

  it('a recording flushed mid-speech: its utterance ends, the silence after stays silent, the next one is heard on the same clock', async () => {
    await start({ modelDir: streaming });
    const cut = 2 * RATE; // 1 s into the sentence: mic-in stopped or muted
    const first = await feed(host, (await clip('arctic_aew_a0001')).subarray(0, cut));
    assert.deepEqual(first.map((e) => e.type).filter((t) => t !== 'partial'), ['speech-start', 'speech-end', 'final']);
    const flushed = of(first, 'speech-end')[0];
    assert.equal(flushed.reason, 'flush');

    assert.deepEqual(await feed(host, new Float32Array(2 * RATE), false), [], 'no false barge-in in the silence after the flush');

    const offset = cut + 2 * RATE;
    const audio = await clip('arctic_aew_a0002');
    const next = await feed(host, audio);
    const types = next.map((e) => `${e.type}:${e.utterance}`);
    assert.equal(types[0], 'speech-start:2');
    assert.deepEqual(types.slice(-2), ['speech-end:2', 'final:2']);
    assert.ok(of(next, 'partial').length >= 1);
    const [begin, end, final] = [of(next, 'speech-start')[0], of(next, 'speech-end')[0], of(next, 'final')[0]];
    assert.equal(begin.start, end.start);
    assert.ok(end.start >= offset + RATE - 0.2 * RATE && end.end <= offset + audio.length, `speech at ${end.start}..${end.end}, the clip at ${offset + RATE}..`);
    assert.match(final.text, /^s+$/);
  });

  it('hears nothing in noise', async () => {
    await start({ modelDir: streaming });
    assert.deepEqual(await feed(host, await clip('noise_dishes_6s')), []);
  });

  it('without a model still reports speech start and end (barge-in only)', async () => {
    assert.deepEqual(await start({}), { kind: 'vad-only', streaming: false });
    assert.deepEqual(
      (await feed(host, await clip('arctic_aew_a0002'))).map((e) => e.type),
      ['speech-start', 'speech-end'],
    );
  });

  it('an hour of silence: no events, no memory growth', async function () {
    await start({ modelDir: streaming });
    const second = new Float32Array(RATE);
    const minutes = async (n: number) => {
      let events = 0;
      for (let s = 0; s < n * 60; s++) events += (await host.call<AsrEvent[]>('audio', second.slice())).length;
      return events;
    };
    assert.equal(await minutes(5), 0); // warm-up: allocations settle
    const rss = process.memoryUsage().rss;
    assert.equal(await minutes(55), 0);
    const grownMb = (process.memoryUsage().rss - rss) / 1e6;
    assert.ok(grownMb < 30, `grew ${grownMb.toFixed(1)} MB over 55 min of audio`);
  });

  it('turn model: a sentence paused in the middle is one utterance, ended by the model, not by the 0.5 s silence', async function () {
    const turnDir = installedModel(SMART_TURN);
    if (!turnDir) {
      console.log(`      skipped: no model (${SMART_TURN}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    // "Lord, but I'm glad to" (heard as unfinished), 0.7 s of silence, "Will we ever forget it." (finished).
    const clips = await turnClips();
    const first = clips.find((c) => c.words === "Lord, but I'm glad to")!;
    const second = clips.find((c) => c.words === 'Will we ever forget it.')!;
    const head = first.audio.subarray(0, first.lastWord + Math.round(0.7 * RATE));
    const audio = new Float32Array(head.length + second.audio.length - RATE);
    audio.set(head);
    audio.set(second.audio.subarray(RATE), head.length);
    await start({ modelDir: offline, turn: { model: join(turnDir, 'smart-turn-v3.2-cpu.onnx'), pause: 0.2, timeout: 1.2 } });
    const events = await feed(host, audio, false);
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'speech-end', 'final'],
    );
    const [begin, end, final] = events as [Of<'speech-start'>, Of<'speech-end'>, Of<'final'>];
    assert.equal(end.reason, 'turn-model');
    assert.ok(end.turn && end.turn.probability > 0.5 && end.turn.checks >= 2, JSON.stringify(end.turn));
    const lastWord = head.length - RATE + second.lastWord;
    assert.ok(end.at - lastWord <= 0.25 * RATE, `decided ${((end.at - lastWord) / RATE) * 1000} ms after the last word`);
    assert.ok(begin.start < first.lastWord && end.end >= lastWord - 0.05 * RATE, 'the utterance spans both pieces');
    assert.equal(final.end - final.start, end.end - end.start);

    // The same audio by silence alone: two utterances.
    await host.close();
    await start({ modelDir: offline });
    assert.equal(of(await feed(host, audio, false), 'speech-end').length, 2);
  });

  it('refuses a turn model that is not there, naming the command that installs it', async () => {
    await assert.rejects(start({ turn: { model: join(dir, 'no-turn.onnx'), pause: 0.2, timeout: 1.2 } }), { code: 'TURN_MODEL_MISSING', message: /Smart Turn model not found/ });
  });

  it('refuses what sherpa-onnx would end the process on, with the reason', async () => {
    await assert.rejects(start({ vad: { ...TEST_VAD, model: join(dir, 'no-vad.onnx') } }), { code: 'VAD_MISSING', message: /Silero VAD model not found/ });
    await host.close();
    const broken = writeTinyAsrModel(join(dir, 'broken'));
    unlinkSync(join(broken, 'tokens.txt'));
    await assert.rejects(start({ modelDir: broken }), { code: 'MODEL_FILE_MISSING', message: /has no tokens\.txt/, statusText: 'no tokens.txt' });
    await host.close();
    await assert.rejects(start({ modelDir: join(dir, 'nowhere') }), { code: 'MODEL_MISSING', statusText: 'no model: see debug' });
  });
});
