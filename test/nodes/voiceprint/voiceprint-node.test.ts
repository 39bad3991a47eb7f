import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { float32ToS16le } from '../../../lib/audio/pcm';
import { readWavMono } from '../../../lib/audio/wav';
import voiceprintNode from '../../../nodes/voiceprint/voiceprint';
import { collect, nextMessage } from '../../support/node-red';
import { SHARED_MODELS, TESTDATA } from '../../support/paths';
import { writeTinySpeakerModel } from '../../support/tiny-speaker-model';

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

const settle = () => new Promise((r) => setTimeout(r, 800));

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
    const rmsDb = (f: Frame) => {
      let sum = 0;
      for (let i = 0; i < f.payload.length; i += 2) sum += (f.payload.readInt16LE(i) / 32768) ** 2;
      return 10 * Math.log10(sum / (f.payload.length / 2) + 1e-12);
    };
    const loudest = Math.max(...stranger.map(rmsDb));
    assert.ok(loudest < -30, `a passed stranger frame is at ${loudest.toFixed(1)} dBFS`);
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
    const enrolled = nextMessage<Event>('events');
    helper.getNode('vp').receive({ enroll: 'live-aew', seconds: 4 } as never);
    await play('arctic_aew_a0001');
    assert.deepEqual((await enrolled).payload, { name: 'live-aew', ok: true, samples: 1 });
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
