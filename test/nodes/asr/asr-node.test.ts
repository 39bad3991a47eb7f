import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { makeControl } from '../../../lib/messages/control';
import { float32ToS16le } from '../../../lib/audio/pcm';
import { resample } from '../../../lib/audio/resample';
import asrNode from '../../../nodes/asr/asr';
import { engineProcesses } from '../../support/engine-processes';
import { collect, lastStatus, nextMessage } from '../../support/node-red';
import { until } from '../../support/wait';
import { SHARED_MODELS } from '../../support/paths';
import { writeTinyAsrModel, writeTinyStreamingAsrModel } from '../../support/tiny-asr-model';
import { SMART_TURN, installedModel } from '../../support/real-models';
import { MAKE_TEST_VENV } from '../../support/test-venv';
import { turnClips } from '../../lib/turn/turn-clips';
import { clip, energyBoundaries, RATE } from '../../lib/vad/clips';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown> & { payload?: unknown; turnId?: string; control?: { type: string; turnId: string } };

/** The VAD's own boundaries unless a test asks for the turn model (installed or not, the same here and in CI). */
function flow(modelDir: string, extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'rec', z: 'f1', type: 'asr', name: 'listener', modelDir, vadModel: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), endOfTurn: 'silence', ...extra, wires: [['text'], ['control'], ['metrics']] },
    { id: 'text', z: 'f1', type: 'helper' },
    { id: 'control', z: 'f1', type: 'helper' },
    { id: 'metrics', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** A clip (1 s of silence before, 1.5 s after) as 20 ms frames at a device's rate and channel count, tagged by a voiceprint node. */
async function frames(name: string, rate: number, channels = 1): Promise<Msg[]> {
  const atRate = resample(await clip(name), RATE, rate);
  const n = Math.round(rate / 50);
  const out: Msg[] = [];
  for (let i = 0; i + n <= atRate.length; i += n) {
    const mono = atRate.subarray(i, i + n);
    const inter = new Float32Array(n * channels);
    for (let k = 0; k < n; k++) for (let c = 0; c < channels; c++) inter[k * channels + c] = mono[k];
    out.push({ topic: 'audio', payload: float32ToS16le(inter), audio: { sampleRate: rate, channels, format: 's16le' }, speaker: { name: 'alice', score: 0.8 } });
  }
  return out;
}

/** How long the speech of a clip lasts, from its energy boundaries (see test/lib/vad/clips.ts). */
async function speechMs(name: string): Promise<number> {
  const { start, end } = energyBoundaries(await clip(name, 0, 0));
  return ((end - start) / RATE) * 1000;
}

async function play(msgs: Msg[]): Promise<void> {
  const asr = helper.getNode('rec');
  for (const m of msgs) asr.receive(m as never);
  asr.receive({ flush: true } as never);
}

describe('asr node (real runtime, real VAD, tiny recogniser)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-asr-node-'));
  const model = writeTinyAsrModel(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => helper.unload());

  for (const [rate, channels] of [
    [16000, 1],
    [48000, 2],
    [44100, 1],
    [8000, 1],
  ] as const) {
    it(`turns ${rate / 1000} kHz ${channels === 2 ? 'stereo' : 'mono'} speech into speech-start, speech-end and a recognised utterance of one turn`, async () => {
      await helper.load(asrNode, flow(model));
      const controls = collect<Msg>('control');
      const transcripts = collect<Msg>('text');
      const metrics = nextMessage<{ stage: string; turnId: string; payload: { speech_ms: number } }>('metrics');
      await play(await frames('arctic_aew_a0001', rate, channels));
      const m = await metrics; // sent for every finished utterance, after its transcript
      const truth = await speechMs('arctic_aew_a0001');
      assert.equal(m.stage, 'asr');
      // Each boundary is within 100 ms of the truth (test/lib/vad): the length within 200 ms.
      assert.ok(Math.abs(m.payload.speech_ms - truth) <= 200, `speech of ${m.payload.speech_ms} ms, truth ${truth} ms`);
      assert.deepEqual(
        controls.map((c) => c.control!.type),
        ['speech-start', 'speech-end'],
      );
      assert.equal(m.turnId, controls[0].turnId, 'the utterance belongs to the turn speech-start opened');
      // The tiny model's loudness rule needs the band above 4 kHz: 8 kHz audio checks the VAD path only.
      if (rate === 8000) return;
      const [t] = transcripts;
      assert.equal(t.partial, false);
      assert.match(t.payload as string, /^s+$/);
      assert.equal(t.turnId, controls[0].turnId);
      assert.deepEqual(t.speaker, { name: 'alice', score: 0.8 });
      const timings = t.timings as { speechStart: number; speechEnd: number; recognitionMs: number };
      assert.ok(Math.abs(timings.speechEnd - timings.speechStart - truth) <= 200, `speech of ${timings.speechEnd - timings.speechStart} ms`);
      assert.ok(timings.recognitionMs >= 0 && timings.recognitionMs < 1000);
    });
  }

  it('end of turn by the turn model (the default): a sentence paused in the middle is one turn, its metrics say so', async function () {
    if (!installedModel(SMART_TURN)) {
      console.log(`      skipped: no model (${SMART_TURN}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    // "Lord, but I'm glad to" (unfinished), 0.7 s of silence, "Will we ever forget it." (finished).
    const clips = await turnClips();
    const first = clips.find((c) => c.words === "Lord, but I'm glad to")!;
    const second = clips.find((c) => c.words === 'Will we ever forget it.')!;
    const audio = Float32Array.from([...first.audio.subarray(0, first.lastWord + Math.round(0.7 * RATE)), ...second.audio.subarray(RATE)]);
    const msgs: Msg[] = [];
    for (let i = 0; i + 320 <= audio.length; i += 320) msgs.push({ payload: float32ToS16le(audio.subarray(i, i + 320)), audio: { sampleRate: RATE, channels: 1, format: 's16le' } });
    // A node that never set it, as in a flow of version 1.
    await helper.load(asrNode, flow(model, { endOfTurn: undefined }));
    const controls = collect<Msg>('control');
    const metrics = nextMessage<{ payload: Record<string, unknown> }>('metrics');
    const asr = helper.getNode('rec');
    for (const m of msgs) asr.receive(m as never);
    const m = await metrics;
    assert.deepEqual(
      controls.map((c) => c.control!.type),
      ['speech-start', 'speech-end'],
    );
    assert.equal(m.payload.ended_by, 'turn-model');
    assert.ok((m.payload.turn_probability as number) > 0.5 && (m.payload.turn_checks as number) >= 2, JSON.stringify(m.payload));
    assert.ok((m.payload.vad_end_ms as number) <= 250, `${m.payload.vad_end_ms} ms of audio after the last word`);
    assert.ok((m.payload.speech_ms as number) > 3000, 'both pieces in one utterance');
  });

  it('end of turn by the turn model, not installed: warns once, and silence ends turns', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rv-no-models-'));
    const saved = process.env.VOICE_MODELS_DIR;
    process.env.VOICE_MODELS_DIR = empty;
    try {
      await helper.load(asrNode, flow(model, { endOfTurn: 'turn-model' }));
      const warn = helper.getNode('rec').warn as unknown as { args: unknown[][] };
      assert.match(String(warn.args.flat()), /no turn model installed: turns end after 0\.5 s of silence \(run ".*models pull turn-smart-turn-v3"/);
      const metrics = nextMessage<{ payload: Record<string, unknown> }>('metrics');
      await play(await frames('arctic_axb_a0005', 16000));
      assert.equal((await metrics).payload.ended_by, 'silence');
    } finally {
      if (saved === undefined) delete process.env.VOICE_MODELS_DIR;
      else process.env.VOICE_MODELS_DIR = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('sends partial transcripts of the turn while the user speaks (streaming model)', async () => {
    await helper.load(asrNode, flow(writeTinyStreamingAsrModel(dir)));
    const controls = collect<Msg>('control');
    const transcripts = collect<Msg>('text');
    const metrics = nextMessage('metrics');
    await play(await frames('arctic_aew_a0001', 16000));
    await metrics;
    const partials = transcripts.filter((t) => t.partial);
    const finals = transcripts.filter((t) => !t.partial);
    assert.ok(partials.length >= 3, `${partials.length} partials`);
    assert.equal(finals.length, 1);
    assert.ok(transcripts.indexOf(finals[0]) === transcripts.length - 1, 'the final comes last');
    assert.ok(transcripts.every((t) => t.turnId === controls[0].turnId));
  });

  it('while the LLM evaluates its prompt: speech-start and speech-end at once, the transcript after resume', async () => {
    await helper.load(asrNode, flow(model, { pauseDuringPrefill: true }));
    const controls = collect<Msg>('control');
    const transcripts = collect<Msg>('text');
    const asr = helper.getNode('rec');
    asr.receive(makeControl('pause', 't-llm', { source: 'llama-llm' }) as never);
    const ended = new Promise<void>((resolve) => helper.getNode('control').on('input', (m: Msg) => m.control?.type === 'speech-end' && resolve()));
    await play(await frames('arctic_axb_a0005', 16000));
    await ended;
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      controls.map((c) => c.control!.type),
      ['speech-start', 'speech-end'],
      'barge-in is not delayed by the pause',
    );
    assert.equal(transcripts.length, 0, 'nothing decoded while paused');
    const transcript = nextMessage<Msg>('text');
    asr.receive(makeControl('resume', 't-llm', { source: 'llama-llm' }) as never);
    const t = await transcript;
    assert.match(t.payload as string, /^s+$/);
    assert.equal(t.turnId, controls[0].turnId);
  });

  it('its engine killed mid-utterance: the turn ends cleanly (speech-end, metrics), and the next utterance is a new turn, recognised', async () => {
    await helper.load(asrNode, flow(model));
    const controls = collect<Msg>('control');
    const transcripts = collect<Msg>('text');
    const metrics = collect<Msg & { payload: Record<string, unknown> }>('metrics');
    const speech = await frames('arctic_aew_a0001', 16000);
    const asr = helper.getNode('rec');
    // The first half: the VAD has opened the turn when the OOM killer strikes.
    for (const m of speech.slice(0, Math.floor(speech.length / 2))) asr.receive(m as never);
    await until(() => controls.some((c) => c.control?.type === 'speech-start'), 10_000, 'speech-start');
    const [pid] = engineProcesses();
    process.kill(pid, 'SIGKILL');
    await until(() => controls.some((c) => c.control?.type === 'speech-end'), 10_000, 'the lost turn to end');
    const lost = controls[0].turnId;
    assert.deepEqual([controls[1].turnId, (controls[1].control as { reason?: string }).reason], [lost, 'engine restarted']);
    assert.equal(metrics[0].turnId, lost);
    await until(() => engineProcesses().some((p) => p !== pid), 10_000, 'the engine restarted');
    await until(() => (lastStatus('rec').text ?? '') === 'listening', 10_000, 'listening again');
    const next = nextMessage<Msg>('text');
    await play(speech);
    const t = await next;
    assert.match(t.payload as string, /^s+$/);
    assert.notEqual(t.turnId, lost, 'a new turn');
    assert.equal(transcripts.length, 1, 'nothing of the lost turn was ever transcribed');
    assert.ok(controls.slice(2).every((c) => c.turnId === t.turnId));
  });

  it('refuses malformed frames on the Catch node and keeps listening', async () => {
    await helper.load(asrNode, flow(model));
    const asr = helper.getNode('rec');
    let caught = nextMessage<{ error: { message: string } }>('caught');
    asr.receive({ payload: Buffer.alloc(641), audio: { sampleRate: 16000, channels: 1, format: 's16le' } } as never);
    assert.match((await caught).error.message, /641 bytes/);
    caught = nextMessage('caught');
    asr.receive({ payload: Buffer.alloc(640) } as never);
    assert.match((await caught).error.message, /msg\.audio is missing/);
    const transcript = nextMessage<Msg>('text');
    await play(await frames('arctic_axb_a0005', 16000));
    assert.match((await transcript).payload as string, /^s+$/);
  });

  it('refuses a control message of an unknown version on the Catch node', async () => {
    await helper.load(asrNode, flow(model));
    const caught = nextMessage<{ error: { message: string } }>('caught');
    helper.getNode('rec').receive({ topic: 'control', control: { v: 9, type: 'pause', turnId: 't-1', ts: 1 } } as never);
    assert.match((await caught).error.message, /version/);
  });

  for (const [what, setup, statusText] of [
    ['a model folder that does not exist', () => join(dir, 'nowhere'), 'no model: see debug'],
    ['a model folder missing a file', () => brokenModel(), 'no tokens.txt'],
  ] as const) {
    it(`names ${what} in its status and tells a Catch node once`, async () => {
      await helper.load(asrNode, flow(setup()));
      const asr = helper.getNode('rec');
      const caught = collect<{ error: { message: string } }>('caught');
      for (let i = 0; i < 5; i++) asr.receive({ payload: Buffer.alloc(640), audio: { sampleRate: 16000, channels: 1, format: 's16le' } } as never);
      for (let waited = 0; caught.length === 0 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(caught.length, 1, 'one error, not one per frame');
      assert.match(caught[0].error.message, statusText === 'no model: see debug' ? /model folder not found/ : /has no tokens\.txt/);
      const status = (asr.status as unknown as { lastCall: { args: [{ fill: string; text: string }] } }).lastCall.args[0];
      assert.deepEqual([status.fill, status.text], ['red', statusText]);
    });
  }

  function brokenModel(): string {
    const folder = writeTinyAsrModel(join(dir, 'broken'));
    unlinkSync(join(folder, 'tokens.txt'));
    return folder;
  }
});
