import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { float32ToS16le } from '../../../lib/audio/pcm';
import { readWavMono } from '../../../lib/audio/wav';
import voiceprintNode from '../../../nodes/voiceprint/voiceprint';
import { collect, nextMessage } from '../../support/node-red';
import { SHARED_MODELS, TESTDATA } from '../../support/paths';
import { TinyDisk } from '../../support/tiny-disk';
import { writeTinySpeakerModel } from '../../support/tiny-speaker-model';
import { until } from '../../support/wait';

helper.init(require.resolve('node-red'));

type Event = { topic: string; payload: unknown };
type Caught = { enroll?: string; error: { message: string; code?: string } };
type StatusMsg = { status: { fill?: string; text?: string } };

const modelDir = mkdtempSync(join(tmpdir(), 'rv-vp-disk-'));
const model = writeTinySpeakerModel(modelDir);
const wav = (clip: string) => readFileSync(join(TESTDATA, `${clip}.wav`));

const flow = [
  { id: 'f1', type: 'tab' },
  { id: 'vp', z: 'f1', type: 'voiceprint', mode: 'tag', model, vadModel: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), threshold: 0.6, wires: [['frames'], ['events']] },
  { id: 'frames', z: 'f1', type: 'helper' },
  { id: 'events', z: 'f1', type: 'helper' },
  { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'f1', type: 'helper' },
  { id: 'watch', z: 'f1', type: 'status', scope: ['vp'], wires: [['statuses']] },
  { id: 'statuses', z: 'f1', type: 'helper' },
];

/**
 * Enrolment while the Node-RED user directory's disk is read-only or full (a
 * real tmpfs): the enrolment fails on the Catch node with PROFILES_NOT_SAVED
 * and a short red status; the voices enrolled before stay, on disk and in the
 * node's list.
 */
describe('voiceprint node enrolling on a failing disk (real runtime, tmpfs user directory)', function () {
  this.timeout(60_000);
  let disk: TinyDisk | undefined;
  let file: string;

  before(function () {
    const made = TinyDisk.create(256);
    if (typeof made === 'string') {
      console.log(`      skipped: ${made}`);
      return this.skip();
    }
    disk = made;
    file = join(disk.dir, 'realtime-voice', 'voiceprints.json');
  });
  beforeEach(async () => {
    helper.settings({ userDir: disk!.dir });
    await helper.load(voiceprintNode, flow);
  });
  afterEach(() => helper.unload());
  after(() => {
    disk?.remove();
    rmSync(modelDir, { recursive: true, force: true });
  });

  async function listed(): Promise<unknown> {
    const list = nextMessage<Event>('events');
    helper.getNode('vp').receive({ profiles: 'list' } as never);
    return (await list).payload;
  }

  /** Sends a request that must fail; returns the error the Catch node saw and the red status. */
  async function failing(msg: Record<string, unknown>): Promise<{ caught: Caught; status: string | undefined }> {
    const statuses = collect<StatusMsg>('statuses');
    const caught = nextMessage<Caught>('caught');
    helper.getNode('vp').receive(msg as never);
    const got = await caught;
    await until(() => statuses.some((s) => s.status.fill === 'red'), 5000, 'a red status');
    return { caught: got, status: statuses.find((s) => s.status.fill === 'red')!.status.text };
  }

  it('read-only: enrolment from a WAV and forgetting fail with PROFILES_NOT_SAVED; the voice enrolled before stays', async () => {
    const done = nextMessage<Event>('events');
    helper.getNode('vp').receive({ enroll: 'aew', payload: wav('arctic_aew_a0001') } as never);
    assert.deepEqual((await done).payload, { name: 'aew', ok: true, samples: 1 });
    const before = readFileSync(file, 'utf8');
    disk!.readOnly();
    try {
      const enrol = await failing({ enroll: 'axb', payload: wav('arctic_axb_a0004') });
      assert.equal(enrol.caught.enroll, 'axb', 'the error carries the message that failed');
      assert.equal(enrol.caught.error.code, 'PROFILES_NOT_SAVED');
      assert.match(enrol.caught.error.message, /the disk is read-only \(EROFS\); the enrolled voices are unchanged/);
      assert.equal(enrol.status, 'disk read-only');
      const forget = await failing({ forget: 'aew' });
      assert.equal(forget.caught.error.code, 'PROFILES_NOT_SAVED');
      assert.deepEqual(await listed(), ['aew'], 'the node still knows the voice enrolled before');
      assert.equal(readFileSync(file, 'utf8'), before, 'the profile file is untouched');
    } finally {
      disk!.writable();
    }
  });

  it('full: a live enrolment fails with PROFILES_NOT_SAVED on the Catch node (with its request) and in the enrolment event', async () => {
    const before = readFileSync(file, 'utf8');
    const filler = disk!.fill();
    try {
      const events = collect<Event>('events');
      const caught = nextMessage<Caught>('caught');
      const vp = helper.getNode('vp');
      vp.receive({ enroll: 'live-axb', seconds: 2 } as never);
      const { samples } = await readWavMono(join(TESTDATA, 'arctic_axb_a0004.wav'));
      for (let i = 0; i + 320 <= samples.length; i += 320) vp.receive({ payload: float32ToS16le(samples.subarray(i, i + 320)), audio: { sampleRate: 16000, channels: 1, format: 's16le' } } as never);
      const got = await caught;
      assert.equal(got.enroll, 'live-axb');
      assert.equal(got.error.code, 'PROFILES_NOT_SAVED');
      assert.match(got.error.message, /the disk is full \(ENOSPC\)/);
      await until(() => events.some((e) => e.topic === 'voiceprint-enrol'), 5000, 'the enrolment event');
      const result = events.find((e) => e.topic === 'voiceprint-enrol')!.payload as { name: string; ok: boolean; error: string };
      assert.deepEqual({ name: result.name, ok: result.ok }, { name: 'live-axb', ok: false });
      assert.ok(got.error.message.endsWith(result.error), `the event gives the same reason: ${result.error}`);
      assert.deepEqual(await listed(), ['aew']);
      assert.equal(readFileSync(file, 'utf8'), before, 'the profile file is untouched');
      assert.deepEqual(readdirSync(join(file, '..')).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');
    } finally {
      rmSync(filler);
    }
  });

  it('after a restart with space again, the old voice is there and a new enrolment is saved', async () => {
    assert.deepEqual(await listed(), ['aew']);
    const done = nextMessage<Event>('events');
    helper.getNode('vp').receive({ enroll: 'axb', payload: wav('arctic_axb_a0004') } as never);
    assert.deepEqual((await done).payload, { name: 'axb', ok: true, samples: 1 });
    assert.deepEqual(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { profiles: object }).profiles).sort(), ['aew', 'axb']);
  });
});
