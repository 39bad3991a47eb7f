import assert from 'node:assert/strict';
import type { AsrEvent } from '../../../lib/asr/asr-engine';
import { float32ToS16le } from '../../../lib/audio/pcm';
import { makeControl } from '../../../lib/messages/control';
import { migrate } from '../../../lib/nodered/migrate';
import { DEFAULTS, MIGRATIONS, type AsrConfig } from '../../../nodes/asr/config';
import { AsrController, type AsrOutputs, type AsrSettings, type EngineMethod, type SendToEngine } from '../../../nodes/asr/controller';

interface Call {
  method: EngineMethod;
  samples?: Float32Array;
  event: (e: AsrEvent) => void;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** An engine that answers when the test says so, with the events the test gives. */
function fakeEngine() {
  const calls: Call[] = [];
  const send: SendToEngine = (method, samples, onEvent) =>
    new Promise((resolve, reject) => calls.push({ method, samples, event: onEvent, resolve: () => resolve(undefined), reject }));
  return { send, calls };
}

function outputs() {
  const got = { transcripts: [] as Record<string, unknown>[], controls: [] as Record<string, unknown>[], metrics: [] as Record<string, unknown>[], status: [] as string[], warnings: [] as string[] };
  const out: AsrOutputs = {
    transcript: (m) => got.transcripts.push(m),
    control: (m) => got.controls.push(m as unknown as Record<string, unknown>),
    metrics: (m) => got.metrics.push(m),
    status: (_kind, text) => got.status.push(text),
    warn: (text) => got.warnings.push(text),
  };
  return { out, got };
}

const SETTINGS: AsrSettings = { pauseDuringPrefill: true, maxPausedSeconds: 30, maxBacklogSeconds: 10 };
const frame = (n = 320, rate = 16000, channels = 1, extra: Record<string, unknown> = {}) => ({
  topic: 'audio',
  payload: float32ToS16le(new Float32Array(n * channels).fill(0.1)),
  audio: { sampleRate: rate, channels, format: 's16le' },
  ...extra,
});

function setup(settings: Partial<AsrSettings> = {}) {
  const engine = fakeEngine();
  const { out, got } = outputs();
  const c = new AsrController(engine.send, { ...SETTINGS, ...settings }, out);
  c.ready({ kind: 'nemo-ctc', streaming: false });
  return { c, calls: engine.calls, got };
}

describe('asr controller (no Node-RED, scripted engine)', () => {
  it('hands the engine 16 kHz mono whatever the device gives', () => {
    const { c, calls } = setup();
    void c.handle(frame());
    assert.equal(calls[0].samples!.length, 320);
    for (let i = 0; i < 50; i++) void c.handle(frame(960, 48000, 2));
    const total = calls.slice(1).reduce((n, call) => n + call.samples!.length, 0);
    // One second at 48 kHz stereo, less the resampler's filter delay.
    assert.ok(total > 16000 - 64 && total <= 16000, `${total} samples`);
    assert.ok(calls.every((call) => call.method === 'audio'));
  });

  it('opens a new turn at speech-start; partials, final transcript and metrics carry it, even when utterances overlap', () => {
    const { c, calls, got } = setup();
    void c.handle(frame());
    const e = calls[0].event;
    e({ type: 'speech-start', utterance: 1, start: 0, at: 5664 });
    e({ type: 'partial', utterance: 1, text: 'turn on', at: 8000 });
    e({ type: 'speech-end', utterance: 1, start: 0, end: 16000, at: 24000, reason: 'silence' });
    e({ type: 'speech-start', utterance: 2, start: 30000, at: 36000 });
    // Utterance 1's final comes after utterance 2 began (e.g. decoding was paused).
    e({ type: 'final', utterance: 1, text: 'turn on the light', start: 0, end: 16000, at: 24000, decodeMs: 12, computeMs: 30 });
    const [start1, end1, start2] = got.controls as { control: { type: string }; turnId: string }[];
    assert.deepEqual(
      got.controls.map((m) => (m as { control: { type: string } }).control.type),
      ['speech-start', 'speech-end', 'speech-start'],
    );
    assert.match(start1.turnId, /^t-[0-9a-f]{8}$/);
    assert.notEqual(start2.turnId, start1.turnId, 'each utterance is a new turn');
    assert.equal(end1.turnId, start1.turnId);
    assert.deepEqual(
      got.transcripts.map((t) => [t.payload, t.partial, t.turnId]),
      [
        ['turn on', true, start1.turnId],
        ['turn on the light', false, start1.turnId],
      ],
    );
    const [m] = got.metrics as { stage: string; turnId: string; payload: Record<string, unknown> }[];
    assert.equal(m.stage, 'asr');
    assert.equal(m.turnId, start1.turnId);
    assert.deepEqual(
      { ...m.payload, recognition_ms: 0, first_partial_ms: 0, turn_wait_ms: 0 },
      {
        speech_ms: 1000,
        recognition_ms: 0,
        decode_ms: 12,
        rtf: 0.03,
        partials: 1,
        first_partial_ms: 0,
        words: 4,
        vad_start_ms: 354,
        vad_end_ms: 500,
        ended_by: 'silence',
        turn_wait_ms: 0,
        model: 'nemo-ctc',
      },
    );
    assert.equal(typeof m.payload.turn_wait_ms, 'number');
  });

  it('says how the turn ended: by the turn model, with its verdict and the wait from the last word', () => {
    const { c, calls, got } = setup();
    void c.handle(frame());
    const e = calls[0].event;
    e({ type: 'speech-start', utterance: 1, start: 0, at: 5664 });
    // The frame that carried sample 320 arrived now: the last word (sample 0) was 20 ms ago, the decision (sample 320) is now.
    e({ type: 'speech-end', utterance: 1, start: 0, end: 0, at: 320, reason: 'turn-model', turn: { probability: 0.9712, ms: 84.26, checks: 2 } });
    e({ type: 'final', utterance: 1, text: 'hello', start: 0, end: 0, at: 320, decodeMs: 1, computeMs: 1 });
    const [m] = got.metrics as { payload: Record<string, unknown> }[];
    assert.equal(m.payload.ended_by, 'turn-model');
    assert.deepEqual([m.payload.turn_probability, m.payload.turn_model_ms, m.payload.turn_checks], [0.971, 84.3, 2]);
    assert.equal(m.payload.vad_end_ms, 20);
    assert.ok((m.payload.turn_wait_ms as number) >= 20 && (m.payload.turn_wait_ms as number) < 1000, `${m.payload.turn_wait_ms} ms`);
  });

  it('dates speech in wall-clock time from the frames that carried it', async () => {
    const { c, calls, got } = setup();
    for (let i = 0; i < 99; i++) void c.handle(frame());
    const before = Date.now();
    void c.handle(frame()); // the last of 2 s of audio; its frame ends at sample 32000
    const after = Date.now();
    await new Promise((r) => setTimeout(r, 30));
    const last = calls[99].event;
    last({ type: 'speech-start', utterance: 1, start: 8000, at: 14000 });
    last({ type: 'speech-end', utterance: 1, start: 8000, end: 24000, at: 32000, reason: 'silence' });
    last({ type: 'final', utterance: 1, text: 'hi', start: 8000, end: 24000, at: 32000, decodeMs: 1, computeMs: 1 });
    const t = got.transcripts[0].timings as { speechStart: number; speechEnd: number; recognitionMs: number };
    // 1.5 s and 0.5 s of audio before the end of the frame that arrived between `before` and `after`.
    assert.ok(t.speechStart >= before - 1501 && t.speechStart <= after - 1499, `${t.speechStart - before} ms`);
    assert.ok(t.speechEnd >= before - 501 && t.speechEnd <= after - 499);
    assert.ok(t.recognitionMs >= 29 && t.recognitionMs < 2000, `speech-end → final ${t.recognitionMs} ms`);
  });

  it('copies the speaker a voiceprint node tagged during the utterance, and only then', () => {
    const { c, calls, got } = setup();
    for (let i = 0; i < 10; i++) void c.handle(frame()); // 0..3200: untagged
    for (let i = 0; i < 10; i++) void c.handle(frame(320, 16000, 1, { speaker: { name: 'alice', score: 0.81 } })); // 3200..6400
    for (let i = 0; i < 30; i++) void c.handle(frame()); // ..16000 untagged
    const e = calls[49].event;
    e({ type: 'speech-start', utterance: 1, start: 2000, at: 7000 });
    e({ type: 'final', utterance: 1, text: 'one', start: 2000, end: 6000, at: 14000, decodeMs: 1, computeMs: 1 });
    e({ type: 'speech-start', utterance: 2, start: 10000, at: 15000 });
    e({ type: 'final', utterance: 2, text: 'two', start: 10000, end: 15000, at: 16000, decodeMs: 1, computeMs: 1 });
    assert.deepEqual(got.transcripts[0].speaker, { name: 'alice', score: 0.81 });
    assert.equal('speaker' in got.transcripts[1], false, 'alice stopped being tagged before utterance 2');
  });

  it('puts the room of the frames on speech-start and speech-end (a barge-in cuts only that room), its transcript and its metrics', () => {
    const { c, calls, got } = setup();
    for (let i = 0; i < 20; i++) void c.handle(frame(320, 16000, 1, { room: 'kitchen' }));
    const e = calls[19].event;
    e({ type: 'speech-start', utterance: 1, start: 1000, at: 3000 });
    e({ type: 'speech-end', utterance: 1, start: 1000, end: 5000, at: 6000, reason: 'silence' });
    e({ type: 'final', utterance: 1, text: 'lights on', start: 1000, end: 5000, at: 6400, decodeMs: 1, computeMs: 1 });
    const [start, end] = got.controls.map((m) => m.control as Record<string, unknown>);
    assert.deepEqual([start.type, start.room, end.type, end.room], ['speech-start', 'kitchen', 'speech-end', 'kitchen']);
    assert.equal(start.turnId, end.turnId);
    assert.deepEqual([got.transcripts[0].room, got.metrics[0].room, got.metrics[0].turnId], ['kitchen', 'kitchen', start.turnId]);
  });

  it('without a recogniser closes the turn at speech-end', () => {
    const { c, calls, got } = setup();
    c.ready({ kind: 'vad-only', streaming: false });
    void c.handle(frame());
    calls[0].event({ type: 'speech-start', utterance: 1, start: 0, at: 5664 });
    calls[0].event({ type: 'speech-end', utterance: 1, start: 0, end: 8000, at: 16000, reason: 'silence' });
    assert.equal(got.transcripts.length, 0);
    assert.equal((got.metrics[0].payload as { speech_ms: number }).speech_ms, 500);
    assert.equal(got.status.at(-1), 'VAD only');
  });

  it('ends the open utterance when the engine restarts after a crash, and forgets it (its clock starts again)', () => {
    const { c, calls, got } = setup();
    void c.handle(frame());
    calls[0].event({ type: 'speech-start', utterance: 1, start: 0, at: 5664 });
    const lost = got.controls[0].turnId;
    c.restarted();
    assert.deepEqual(
      (got.controls as { control: { type: string; reason?: string }; turnId: string }[]).map((m) => [m.control.type, m.turnId, m.control.reason]),
      [
        ['speech-start', lost, undefined],
        ['speech-end', lost, 'engine restarted'],
      ],
      'the lost turn ends: nothing downstream waits for it',
    );
    assert.deepEqual([got.metrics[0].turnId, (got.metrics[0].payload as { lost: string }).lost], [lost, 'engine restarted']);
    calls[0].event({ type: 'final', utterance: 1, text: 'stale', start: 0, end: 100, at: 200, decodeMs: 1, computeMs: 1 });
    assert.equal(got.transcripts.length, 0);
    void c.handle(frame());
    calls[1].event({ type: 'speech-start', utterance: 1, start: 0, at: 5664 });
    calls[1].event({ type: 'final', utterance: 1, text: 'fresh', start: 0, end: 100, at: 200, decodeMs: 1, computeMs: 1 });
    assert.deepEqual(
      got.transcripts.map((t) => t.payload),
      ['fresh'],
    );
  });

  it('pauses recognition on pause, resumes on resume, and by itself when resume never comes', async () => {
    const { c, calls, got } = setup({ maxPausedSeconds: 0.05 });
    void c.handle(makeControl('pause', 't-llm') as never);
    void c.handle(makeControl('pause', 't-llm') as never);
    void c.handle(makeControl('resume', 't-llm') as never);
    void c.handle(makeControl('resume', 't-llm') as never);
    assert.deepEqual(
      calls.map((x) => x.method),
      ['pause', 'resume'],
    );
    assert.deepEqual(got.status.slice(-3), ['paused', 'paused', 'listening']);
    void c.handle(makeControl('pause', 't-llm2') as never);
    for (let waited = 0; calls.length < 4 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      calls.map((x) => x.method),
      ['pause', 'resume', 'pause', 'resume'],
    );
    assert.match(got.warnings[0], /no resume within 0\.05 s/);
    c.close();
  });

  it('ignores pause when "pause during LLM prefill" is off, and other control types', () => {
    const { c, calls } = setup({ pauseDuringPrefill: false });
    void c.handle(makeControl('pause', 't-llm') as never);
    void c.handle(makeControl('tts-start', 't-llm') as never);
    void c.handle(makeControl('interrupt', 't-llm') as never);
    assert.equal(calls.length, 0);
  });

  it('refuses malformed frames and control messages, naming the problem', () => {
    const { c } = setup();
    assert.throws(() => c.handle({ payload: Buffer.alloc(641), audio: { sampleRate: 16000, channels: 1, format: 's16le' } }), { code: 'ODD_BYTES' });
    assert.throws(() => c.handle({ payload: 'hello', audio: { sampleRate: 16000 } }), { code: 'NO_PAYLOAD' });
    assert.throws(() => c.handle({ payload: Buffer.alloc(640), audio: { sampleRate: 7000 } }), { code: 'BAD_SAMPLE_RATE' });
    assert.throws(() => c.handle({ control: { v: 2, type: 'pause', turnId: 't', ts: 1 } }), { code: 'BAD_CONTROL', message: /version/ });
  });

  it('drops frames with one warning when the engine falls more than the backlog behind, and recovers', async () => {
    const { c, calls, got } = setup({ maxBacklogSeconds: 1 });
    for (let i = 0; i < 100; i++) void c.handle(frame()); // 2 s, none answered
    assert.equal(calls.length, 51, 'frames beyond 1 s of backlog are not sent');
    assert.equal(got.warnings.length, 1);
    assert.match(got.warnings[0], /more than 1 s behind/);
    assert.equal(got.status.at(-1), 'falling behind');
    for (const call of calls) call.resolve();
    await new Promise((r) => setImmediate(r));
    void c.handle(frame());
    assert.equal(calls.length, 52);
    assert.equal(got.status.at(-1), 'listening');
  });

  it('reports an engine failure once, not once per frame', async () => {
    const { c, calls } = setup();
    const results = [c.handle(frame()), c.handle(frame()), c.handle(frame())] as Promise<void>[];
    for (const call of calls) call.reject(new Error('asr: model folder not found: /x'));
    const settled = await Promise.allSettled(results);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
    const other = c.handle(frame()) as Promise<void>;
    calls[3].reject(new Error('asr: engine crashed'));
    await assert.rejects(other, /crashed/);
  });
});

describe('asr settings', () => {
  it('gives a flow saved at version 1 the turn model and its 1.2 s timeout; keeps "silence only" and a saved timeout', () => {
    const v1 = { id: 'n1', type: 'asr', z: 'f', name: '', version: 1, modelDir: '', minSilence: 0.5 } as unknown as AsrConfig;
    const c = migrate(v1, MIGRATIONS);
    assert.deepEqual([c.version, c.endOfTurn, c.turnTimeout, c.minSilence], [2, 'turn-model', 1.2, 0.5]);
    const chosen = migrate({ ...v1, version: 2, endOfTurn: 'silence', turnTimeout: 3 } as AsrConfig, MIGRATIONS);
    assert.deepEqual([chosen.endOfTurn, chosen.turnTimeout], ['silence', 3]);
    const typed = migrate({ ...v1, endOfTurn: 'silence', turnTimeout: '2.5' } as unknown as AsrConfig, MIGRATIONS);
    assert.deepEqual([typed.endOfTurn, typed.turnTimeout], ['silence', 2.5]);
    const unversioned = migrate({ id: 'n1', type: 'asr', z: 'f', name: '' } as unknown as AsrConfig, MIGRATIONS);
    assert.deepEqual({ ...unversioned, id: undefined, type: undefined, z: undefined, name: undefined, version: undefined }, { ...DEFAULTS, id: undefined, type: undefined, z: undefined, name: undefined, version: undefined });
  });
});
