import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { float32ToS16le } from '../../../lib/audio/pcm';
import { readWavMono } from '../../../lib/audio/wav';
import voiceprintNode from '../../../nodes/voiceprint/voiceprint';
import { makeControl } from '../../../lib/messages/control';
import { engineProcesses } from '../../support/engine-processes';
import { collect, nextMessage } from '../../support/node-red';
import { SHARED_MODELS, TESTDATA } from '../../support/paths';
import { writeTinySpeakerModel } from '../../support/tiny-speaker-model';
import { sleep, until } from '../../support/wait';

helper.init(require.resolve('node-red'));

type Frame = { payload: Buffer; speaker?: { name: string; score: number }; seq: number };
type Event = { topic: string; payload: Record<string, unknown> | string[] };

const dir = mkdtempSync(join(tmpdir(), 'rv-vp-node-'));
const model = writeTinySpeakerModel(dir);

function flow(mode: string, threshold = 0.6) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'vp', z: 'f1', type: 'voiceprint', name: 'who', mode, model, vadModel: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), threshold, wires: [['frames'], ['events']] },
    { id: 'frames', z: 'f1', type: 'helper' },
    { id: 'events', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** A clip with a second of silence on each side, as numbered 20 ms frames. */
async function play(clip: string): Promise<number> {
  const { samples } = await readWavMono(join(TESTDATA, `${clip}.wav`));
  const audio = new Float32Array(16000 + samples.length + 16000);
  audio.set(samples, 16000);
  const vp = helper.getNode('vp');
  let seq = 0;
  for (let i = 0; i + 320 <= audio.length; i += 320) vp.receive({ payload: float32ToS16le(audio.subarray(i, i + 320)), audio: { sampleRate: 16000, channels: 1, format: 's16le' }, seq: seq++ } as never);
  return seq;
}

/** Waits until the node has sent nothing for 600 ms (at least 800 ms): a loaded machine takes longer. */
async function settle(): Promise<void> {
  let last = Date.now();
  const seen = () => (last = Date.now());
  const outputs = ['frames', 'events'].map((id) => helper.getNode(id) as unknown as NodeJS.EventEmitter);
  for (const o of outputs) o.on('input', seen);
  await sleep(800);
  await until(() => Date.now() - last > 600, 20_000, 'the node to go quiet');
  for (const o of outputs) o.off('input', seen);
}

/** Sends audio as numbered 20 ms frames from `seq` on; returns the next number. */
function feed(audio: Float32Array, seq: number): number {
  const vp = helper.getNode('vp');
  for (let i = 0; i + 320 <= audio.length; i += 320) vp.receive({ payload: float32ToS16le(audio.subarray(i, i + 320)), audio: { sampleRate: 16000, channels: 1, format: 's16le' }, seq: seq++ } as never);
  return seq;
}

const silence = (seconds: number) => new Float32Array(16000 * seconds);
const clip = async (name: string) => (await readWavMono(join(TESTDATA, `${name}.wav`))).samples;

const rmsDb = (f: Frame) => {
  let sum = 0;
  for (let i = 0; i < f.payload.length; i += 2) sum += (f.payload.readInt16LE(i) / 32768) ** 2;
  return 10 * Math.log10(sum / (f.payload.length / 2) + 1e-12);
};

/**
 * The enrolled voice speaks; its engine is killed in the middle of the
 * utterance (SIGKILL, as the OOM killer would) and restarts; then 3 s of
 * silence and a stranger. Returns the frame numbers where the silence and the
 * stranger begin and end.
 */
async function killMidUtterance(cutSeconds: number): Promise<{ silence: [number, number]; stranger: [number, number] }> {
  const own = await clip('arctic_aew_a0002');
  const cut = Math.floor(16000 * cutSeconds);
  let seq = feed(silence(1), 0);
  seq = feed(own.subarray(0, cut), seq);
  await settle();
  const [pid] = engineProcesses();
  process.kill(pid, 'SIGKILL');
  await until(() => engineProcesses().some((p) => p !== pid), 10_000, 'the engine restarted');
  const s0 = seq;
  seq = feed(silence(3), seq);
  const x0 = seq;
  seq = feed(await clip('arctic_axb_a0004'), seq);
  const x1 = seq;
  feed(silence(1), seq);
  await settle();
  await settle();
  return { silence: [s0, x0], stranger: [x0, x1] };
}

async function enrol(name: string, clip: string): Promise<void> {
  const done = nextMessage<Event>('events');
  helper.getNode('vp').receive({ enroll: name, payload: readFileSync(join(TESTDATA, `${clip}.wav`)) } as never);
  assert.deepEqual((await done).payload, { name, ok: true, samples: 1 });
}

describe('voiceprint node (real runtime, tiny speaker model)', function () {
  this.timeout(60_000);
  beforeEach(() => {
    helper.settings({ userDir: mkdtempSync(join(dir, 'userdir-')) });
  });
  afterEach(() => helper.unload());
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('tag: passes every frame at once and tags the utterance with the enrolled speaker', async () => {
    await helper.load(voiceprintNode, flow('tag'));
    await enrol('aew', 'arctic_aew_a0001');
    const frames = collect<Frame>('frames');
    const events = collect<Event>('events');
    const sent = await play('arctic_aew_a0002');
    await settle();
    assert.equal(frames.length, sent, 'tag mode drops nothing');
    assert.deepEqual(frames.map((f) => f.seq), [...Array(sent).keys()], 'in order');
    const tagged = frames.filter((f) => f.speaker);
    assert.ok(tagged.length > 50 && tagged.every((f) => f.speaker!.name === 'aew'), JSON.stringify(events.map((e) => e.payload)));
    const decision = events.find((e) => e.topic === 'metrics')!.payload as { decision_ms: number };
    assert.ok(decision.decision_ms <= 520);
  });

  it('gate: lets the enrolled voice through and drops a stranger\'s words (the quiet around them still passes)', async () => {
    await helper.load(voiceprintNode, flow('gate'));
    await enrol('aew', 'arctic_aew_a0001');
    const frames = collect<Frame>('frames');
    const events = collect<Event>('events');
    const own = await play('arctic_aew_a0002');
    await settle();
    const passedOwn = frames.length;
    assert.ok(passedOwn > own - 40, `${passedOwn} of ${own} frames of the enrolled voice passed`);
    const strangerSent = await play('arctic_axb_a0004');
    await settle();
    const stranger = frames.slice(passedOwn);
    const scores = events.filter((e) => e.topic === 'metrics').map((e) => e.payload);
    assert.ok(stranger.length < strangerSent * 0.6, `${stranger.length} of ${strangerSent} stranger frames passed; decisions ${JSON.stringify(scores)}`);
    assert.ok(stranger.every((f) => !f.speaker), 'no stranger frame carries a speaker');
    // What passed is the quiet around the stranger's words: no frame louder than -30 dBFS.
    const loudest = Math.max(...stranger.map(rmsDb));
    assert.ok(loudest < -30, `a passed stranger frame is at ${loudest.toFixed(1)} dBFS`);
  });

  it('tag: after its engine is killed mid-utterance, tags neither the silence nor the stranger that follow', async () => {
    await helper.load(voiceprintNode, flow('tag'));
    await enrol('aew', 'arctic_aew_a0001');
    const frames = collect<Frame>('frames');
    const { silence: [s0, s1], stranger: [x0, x1] } = await killMidUtterance(1.8);
    const inRange = (a: number, b: number) => frames.filter((f) => f.seq >= a && f.seq < b);
    assert.equal(inRange(s0, s1).filter((f) => f.speaker).length, 0, 'the silence after the restart carries no speaker');
    const stranger = inRange(x0, x1);
    assert.ok(stranger.length >= x1 - x0 - 2, 'tag mode passes the stranger');
    assert.equal(stranger.filter((f) => f.speaker?.name === 'aew').length, 0, 'no stranger frame is tagged as the enrolled voice');
  });

  for (const [when, cutSeconds] of [['after the decision', 1.8], ['before the decision', 0.6]] as const) it(`gate: after its engine is killed mid-utterance ${when}, passes the silence that follows and drops the stranger`, async () => {
    await helper.load(voiceprintNode, flow('gate'));
    await enrol('aew', 'arctic_aew_a0001');
    const frames = collect<Frame>('frames');
    const events = collect<Event>('events');
    const { silence: [s0, s1], stranger: [x0, x1] } = await killMidUtterance(cutSeconds);
    const decisions = events.filter((e) => e.topic === 'metrics').length;
    assert.equal(decisions, cutSeconds > 1 ? 2 : 1, `the enrolled voice was cut ${when} (decisions: ${decisions})`);
    const inRange = (a: number, b: number) => frames.filter((f) => f.seq >= a && f.seq < b);
    assert.equal(inRange(s0, s1).length, s1 - s0, 'every frame of the silence passes, once');
    const stranger = inRange(x0, x1);
    const loudest = Math.max(-100, ...stranger.map(rmsDb));
    assert.ok(loudest < -30, `a passed stranger frame is at ${loudest.toFixed(1)} dBFS`);
    assert.deepEqual(frames.map((f) => f.seq), [...frames.map((f) => f.seq)].sort((a, b) => a - b), 'in order');
  });

  it('takes the control wire: control events pass without error, a flush releases held frames, a bad one goes to Catch', async () => {
    await helper.load(voiceprintNode, flow('gate'));
    const vp = helper.getNode('vp');
    const frames = collect<Frame>('frames');
    const caught = collect<{ error: { message: string } }>('caught');
    for (const type of ['interrupt', 'speech-start', 'tts-start', 'tts-end', 'pause', 'resume', 'mute', 'unmute'] as const) vp.receive(makeControl(type, '*') as never);
    const sent = feed(silence(0.3), 0);
    await settle();
    assert.ok(frames.length < sent, 'gate holds the last frames for the VAD');
    vp.receive(makeControl('flush', '*') as never);
    await settle();
    assert.equal(frames.filter((f) => Buffer.isBuffer(f.payload)).length, sent, 'the flush released every held frame');
    assert.equal(caught.length, 0, JSON.stringify(caught));
    vp.receive({ control: { v: 99, type: 'interrupt', turnId: '*', ts: Date.now() } } as never);
    await until(() => caught.length > 0, 2000, 'a Catch for a bad control message');
    assert.match(caught[0].error.message, /msg\.control\.v is 99/);
  });

  it('enrols a voice named like an object property ("__proto__") as any other', async () => {
    await helper.load(voiceprintNode, flow('tag'));
    await enrol('__proto__', 'arctic_aew_a0001');
    const list = nextMessage<Event>('events');
    helper.getNode('vp').receive({ profiles: 'list' } as never);
    assert.deepEqual((await list).payload, ['__proto__']);
  });

  it('reject-self: learns the assistant\'s voice from played audio and drops it from the microphone', async () => {
    await helper.load(voiceprintNode, flow('reject-self'));
    const vp = helper.getNode('vp');
    // speaker-out's reference stream: what the assistant said (here: speaker aew).
    for (const clip of ['arctic_aew_a0001', 'arctic_aew_a0002']) {
      const { samples } = await readWavMono(join(TESTDATA, `${clip}.wav`));
      for (let i = 0; i + 320 <= samples.length; i += 320) {
        vp.receive({ payload: float32ToS16le(samples.subarray(i, i + 320)), audio: { sampleRate: 16000, channels: 1, format: 's16le' }, reference: true } as never);
      }
    }
    await settle();
    const list = nextMessage<Event>('events');
    vp.receive({ profiles: 'list' } as never);
    assert.deepEqual((await list).payload, ['assistant']);
    const frames = collect<Frame>('frames');
    const echoSent = await play('arctic_aew_a0002');
    await settle();
    const echoPassed = frames.length;
    assert.ok(echoPassed < echoSent * 0.6, `${echoPassed} of ${echoSent} frames of the assistant's own voice passed`);
    const userSent = await play('arctic_axb_a0004');
    await settle();
    assert.ok(frames.length - echoPassed > userSent - 40, 'the user is heard');
  });

  it('enrols live from the next seconds of audio through the node', async () => {
    await helper.load(voiceprintNode, flow('tag'));
    const events = collect<Event>('events');
    helper.getNode('vp').receive({ enroll: 'live-aew', seconds: 4 } as never);
    await play('arctic_aew_a0001');
    await until(() => events.some((e) => e.topic === 'voiceprint-enrol'), 10_000, 'the enrolment result');
    assert.deepEqual(events.find((e) => e.topic === 'voiceprint-enrol')!.payload, { name: 'live-aew', ok: true, samples: 1 });
  });

  it('keeps enrolments across a restart, lists and forgets them', async () => {
    const userDir = mkdtempSync(join(dir, 'persist-'));
    helper.settings({ userDir });
    await helper.load(voiceprintNode, flow('tag'));
    await enrol('aew', 'arctic_aew_a0001');
    await helper.unload();
    helper.settings({ userDir });
    await helper.load(voiceprintNode, flow('tag'));
    const list = nextMessage<Event>('events');
    helper.getNode('vp').receive({ profiles: 'list' } as never);
    assert.deepEqual((await list).payload, ['aew']);
    const after = nextMessage<Event>('events');
    helper.getNode('vp').receive({ forget: 'aew' } as never);
    assert.deepEqual((await after).payload, []);
  });

  it('refuses bad enrolments and unknown names on the Catch node', async () => {
    await helper.load(voiceprintNode, flow('tag'));
    const vp = helper.getNode('vp');
    let caught = nextMessage<{ error: { message: string } }>('caught');
    vp.receive({ enroll: 'silent', payload: readFileSync(join(TESTDATA, 'noise_dishes_6s.wav')) } as never);
    assert.match((await caught).error.message, /no speech found/);
    caught = nextMessage('caught');
    vp.receive({ forget: 'nobody' } as never);
    assert.match((await caught).error.message, /no voice named "nobody"/);
    caught = nextMessage('caught');
    vp.receive({ enroll: '' } as never);
    assert.match((await caught).error.message, /msg\.enroll must be the name/);
    caught = nextMessage('caught');
    vp.receive({ payload: Buffer.alloc(3), audio: { sampleRate: 16000 } } as never);
    assert.match((await caught).error.message, /3 bytes/);
  });
});
