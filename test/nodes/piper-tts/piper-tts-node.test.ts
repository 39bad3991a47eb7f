import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { makeControl } from '../../../lib/messages/control';
import piperTts from '../../../nodes/piper-tts/piper-tts';
import { collect, lastStatus, nextMessage } from '../../support/node-red';
import { writeTinyPiperVoice } from '../../support/tiny-piper-voice';
import { until } from '../../support/wait';

helper.init(require.resolve('node-red'));

type Frame = { payload: Buffer; audio: { sampleRate: number }; turnId: string; text: string; chunkEnd?: boolean; complete?: boolean };

function flow(voicePath: string) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'tts', z: 'f1', type: 'piper-tts', name: 'voice', voicePath, frameMs: 20, sentenceSilence: 0.05, wires: [['frames'], ['control'], ['metrics']] },
    { id: 'frames', z: 'f1', type: 'helper' },
    { id: 'metrics', z: 'f1', type: 'helper' },
    { id: 'control', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Frames the node has sent so far, counted as it sends them: Node-RED delivers
 * to the next node a moment later, and a sentence's frames leave a few per
 * turn of the event loop, so some sent before a cancel still arrive after it.
 */
function framesSent(node: unknown): () => number {
  const n = node as { send(out: unknown): void };
  const send = n.send.bind(n);
  let count = 0;
  n.send = (out) => {
    if (Array.isArray(out) && out[0]) count++;
    send(out);
  };
  return () => count;
}

describe('piper-tts node (tiny Piper-shaped voice, real Node-RED runtime)', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-tts-node-'));
  const voice = writeTinyPiperVoice(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => helper.unload());

  it('speaks LLM chunks in order as 20 ms frames, marking the end of each chunk and of the reply', async () => {
    await helper.load(piperTts, flow(voice));
    const frames = collect<Frame>('frames');
    const metrics = collect<{ payload: { first_audio_ms: number; rtf: number } }>('metrics');
    const tts = helper.getNode('tts');
    const chunk = (payload: string, index: number, complete: boolean) => ({ payload, turnId: 't-1', conversationId: 'c', room: 'hall', index, complete, parts: { id: 't-1', index }, timings: { recognitionMs: 9 } });
    tts.receive(chunk('Hello there.', 0, false) as never);
    tts.receive(chunk('How are you?', 1, false) as never);
    tts.receive(chunk('', 2, true) as never);
    while (!frames.some((f) => f.complete)) await sleep(10);
    assert.ok(frames.every((f) => f.turnId === 't-1' && f.audio.sampleRate === 16000));
    // Each frame carries the chunk's turn fields, not its parts or timings.
    const keys = new Set(frames.flatMap((f) => Object.keys(f)));
    assert.deepEqual([...keys].filter((k) => k !== '_msgid').sort(), ['audio', 'chunkEnd', 'complete', 'conversationId', 'payload', 'room', 'text', 'topic', 'turnId']);
    assert.ok(frames.slice(0, -1).every((f) => f.payload.length <= 640));
    const texts = [...new Set(frames.map((f) => f.text))].filter(Boolean);
    assert.deepEqual(texts, ['Hello there.', 'How are you?']);
    assert.equal(frames.filter((f) => f.chunkEnd).length, 3);
    assert.equal(frames.at(-1)!.complete, true);
    assert.equal(metrics.length, 2);
    assert.ok(metrics.every((m) => m.payload.first_audio_ms > 0 && m.payload.rtf > 0));
  });

  it('speaks text without msg.complete (an announcement) as a whole turn: its last frame says complete', async () => {
    await helper.load(piperTts, flow(voice));
    const frames = collect<Frame>('frames');
    helper.getNode('tts').receive({ payload: 'The washing machine has finished. It is done.', turnId: 'a-1' } as never);
    await until(() => frames.some((f) => f.complete), 10_000, 'the last frame of the announcement');
    const ends = frames.filter((f) => f.chunkEnd);
    assert.equal(ends.length, 1, 'one input text');
    assert.equal(frames.at(-1), ends[0]);
    assert.equal(frames.filter((f) => f.complete).length, 1);
  });

  it('drops the queue and the synthesis in flight on interrupt: nothing more of that turn', async () => {
    await helper.load(piperTts, flow(voice));
    const frames = collect<Frame>('frames');
    const tts = helper.getNode('tts');
    const sent = framesSent(tts);
    const long = Array.from({ length: 40 }, (_, i) => `Sentence number ${i + 1} is here.`).join(' ');
    tts.receive({ payload: long, turnId: 't-1' } as never);
    tts.receive({ payload: 'Queued after.', turnId: 't-1' } as never);
    while (!frames.length) await sleep(5);
    tts.receive(makeControl('interrupt', 't-1', { source: 'test' }) as never);
    const atInterrupt = sent();
    await sleep(400);
    assert.equal(sent() - atInterrupt, 0, `${sent() - atInterrupt} frames sent after the interrupt`);
    assert.ok(!frames.some((f) => f.text === 'Queued after.'));
    // A late chunk of the cancelled turn is never spoken; a new turn is.
    tts.receive({ payload: 'Late words.', turnId: 't-1' } as never);
    tts.receive({ payload: 'New turn.', turnId: 't-2', complete: true } as never);
    while (!frames.some((f) => f.turnId === 't-2' && f.complete)) await sleep(10);
    assert.ok(!frames.some((f) => f.text === 'Late words.'));
  });

  it('barge-in (speech-start) silences every turn but the new one; msg.stop flushes the speaker too', async () => {
    await helper.load(piperTts, flow(voice));
    const frames = collect<Frame>('frames');
    const controls = collect<{ control: { type: string; turnId: string } }>('control');
    const tts = helper.getNode('tts');
    const sent = framesSent(tts);
    tts.receive({ payload: Array(30).fill('Talking on and on.').join(' '), turnId: 't-a' } as never);
    while (!frames.length) await sleep(5);
    tts.receive(makeControl('speech-start', 't-b') as never);
    const n = sent();
    await sleep(300);
    assert.equal(sent() - n, 0);
    tts.receive({ payload: Array(30).fill('Another long one.').join(' '), turnId: 't-c' } as never);
    while (!frames.some((f) => f.turnId === 't-c')) await sleep(5);
    tts.receive({ stop: true } as never);
    const m = sent();
    await sleep(300);
    assert.equal(sent() - m, 0);
    assert.deepEqual(controls.map((c) => [c.control.type, c.control.turnId]), [['flush', '*']]);
  });

  it('sends a long sentence a few frames per turn of the event loop, so other flows run in between', async () => {
    await helper.load(piperTts, flow(voice));
    const frames = collect<Frame>('frames');
    const tts = helper.getNode('tts');
    // A ticker counts turns of the event loop; each frame sent is stamped with the turn it left in.
    let tick = 0;
    let ticking = true;
    const spin = () => {
      tick++;
      if (ticking) setImmediate(spin);
    };
    spin();
    const n = tts as unknown as { send(out: unknown): void };
    const send = n.send.bind(n);
    const leftIn: number[] = [];
    n.send = (out) => {
      if (Array.isArray(out) && out[0]) leftIn.push(tick);
      send(out);
    };
    const sentence = `${Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ')}.`;
    tts.receive({ payload: sentence, turnId: 't-long', complete: true } as never);
    await until(() => frames.some((f) => f.complete), 20_000, 'the sentence to be spoken');
    ticking = false;
    const perTick = new Map<number, number>();
    for (const t of leftIn) perTick.set(t, (perTick.get(t) ?? 0) + 1);
    assert.ok(leftIn.length > 40, `${leftIn.length} frames`);
    assert.ok(Math.max(...perTick.values()) <= 9, `at most a batch per turn (plus the held last frame): ${JSON.stringify([...perTick.values()])}`);
  });

  it('lets a priority announcement pre-empt what is being said', async () => {
    await helper.load(piperTts, flow(voice));
    const frames = collect<Frame>('frames');
    const tts = helper.getNode('tts');
    tts.receive({ payload: Array(30).fill('A long story goes here.').join(' '), turnId: 't-story' } as never);
    while (!frames.length) await sleep(5);
    tts.receive({ payload: 'Someone is at the door.', priority: true, turnId: 't-door' } as never);
    while (!frames.some((f) => f.turnId === 't-door' && f.chunkEnd)) await sleep(10);
    const firstDoor = frames.findIndex((f) => f.turnId === 't-door');
    assert.ok(frames.slice(firstDoor).every((f) => f.turnId === 't-door'), 'the story does not continue after the announcement');
  });

  it('handles bad input: not text, empty, only emoji, 10 kB of text', async () => {
    await helper.load(piperTts, flow(voice));
    const tts = helper.getNode('tts');
    let caught = nextMessage<{ error: { message: string } }>('caught');
    tts.receive({ payload: { text: 'hi' } } as never);
    assert.match((await caught).error.message, /msg\.payload must be text to speak, got object/);
    assert.deepEqual(lastStatus('tts'), { fill: 'red', shape: 'ring', text: 'bad input' });
    caught = nextMessage('caught');
    tts.receive({ payload: '  ' } as never);
    assert.match((await caught).error.message, /empty/);

    const frames = collect<Frame>('frames');
    tts.receive({ payload: '🎉👍🔥' } as never);
    for (let i = 0; i < 200 && lastStatus('tts').text !== 'nothing to say'; i++) await sleep(20);
    assert.equal(lastStatus('tts').text, 'nothing to say');
    assert.equal(frames.length, 0, 'emoji alone say nothing');

    const metrics = collect<{ turnId: string; payload: { sentences: number } }>('metrics');
    const big = 'The quick brown fox jumps over the lazy dog. '.repeat(230);
    assert.ok(big.length > 10_000);
    tts.receive({ payload: big, turnId: 't-big' } as never);
    while (!frames.some((f) => f.turnId === 't-big' && f.chunkEnd)) await sleep(20);
    assert.equal(metrics.find((m) => m.turnId === 't-big')?.payload.sentences, 230);
  });

  it('reports a voice without its .json on the Catch node and the status', async () => {
    const broken = writeTinyPiperVoice(dir, 'broken');
    unlinkSync(`${broken}.json`);
    await helper.load(piperTts, flow(broken));
    const caught = nextMessage<{ error: { message: string } }>('caught');
    helper.getNode('tts').receive({ payload: 'Hello.' } as never);
    assert.match((await caught).error.message, /has no broken\.onnx\.json/);
    assert.equal(lastStatus('tts').text, 'voice .json missing');
  });

  it('with no voice chosen and none installed: the status points at the debug sidebar, the error names the command', async () => {
    const saved = process.env.VOICE_MODELS_DIR;
    process.env.VOICE_MODELS_DIR = mkdtempSync(join(tmpdir(), 'rv-no-models-'));
    try {
      await helper.load(piperTts, flow(''));
      const node = helper.getNode('tts') as unknown as { error: { called: boolean; lastCall: { args: [string] } } };
      while (!node.error.called) await sleep(20);
      assert.equal(lastStatus('tts').text, 'no voice: see debug');
      assert.equal(lastStatus('tts').fill, 'red');
      assert.match(node.error.lastCall.args[0], /no voice model chosen, and none installed: run "npx realtime-voice models pull tts-piper-en-us-joe-medium", then deploy/);
    } finally {
      rmSync(process.env.VOICE_MODELS_DIR, { recursive: true, force: true });
      if (saved === undefined) delete process.env.VOICE_MODELS_DIR;
      else process.env.VOICE_MODELS_DIR = saved;
    }
  });
});
