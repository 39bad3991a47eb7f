import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import { PlaybackQueue, type PlaybackSink } from '../../lib/audio-io/playback-queue';
import type { ControlMessage } from '../../lib/messages/control';
import { SpeakerController } from '../../nodes/speaker-out/controller';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import { fuzzParams, guardProcess } from '../support/fuzz-guard';
import { audioArb, audioProblem, controlArb, controlProblem, junkArb, show, validControl, type Msg } from '../support/fuzz-messages';
import { fuzzFlow, Traffic } from '../support/fuzz-runtime';
import { TurnLedger } from '../support/fuzz-turns';
import { sleep, until } from '../support/wait';

helper.init(require.resolve('node-red'));

const RATE = 16000;
const BUFFER = 320;
const IDS = ['t-a', 't-b', 't-c', 't-d'];
/** Each turn's audio is one constant sample value, so the device can tell whose buffer it plays. */
const CODE: Record<string, number> = { 't-a': 4000, 't-b': 9000, 't-c': 14000, 't-d': 19000, 't-fresh': 24000 };

/** What speaker-out's contract refuses (undefined: it must take the message). */
function refused(msg: Msg): string | undefined {
  if (msg.control != null) return controlProblem(msg.control);
  if (msg.stop === true) return undefined;
  return audioProblem(msg);
}

/** The message with its payload's samples set to its turn's code (the same on every channel, so downmixing keeps it). */
function coded(msg: Msg): Msg {
  const p = msg.payload;
  const code = typeof msg.turnId === 'string' ? CODE[msg.turnId] : undefined;
  if (!Buffer.isBuffer(p) || p.length % 2 || p.length > 400_000) return msg;
  const out = Buffer.alloc(p.length);
  for (let i = 0; i < out.length; i += 2) out.writeInt16LE(code ?? 0, i);
  return { ...msg, payload: out };
}

/** The turn a played buffer belongs to: most of its samples near one turn's code (resampling ripples at the edges). */
function whose(samples: Int16Array): string | undefined {
  for (const [turn, code] of Object.entries(CODE)) {
    let near = 0;
    for (const s of samples) if (Math.abs(s - code) <= code * 0.03) near++;
    if (near >= samples.length / 2) return turn;
  }
  return undefined;
}

/** A device that plays only when the test says so: the test decides when each buffer is taken. */
class StepDevice implements PlaybackSink {
  readonly queued: Int16Array[] = [];
  write(samples: Int16Array): void {
    this.queued.push(samples);
  }
  clear(): void {
    this.queued.length = 0;
  }
}

type Step = { kind: 'msg'; msg: Msg } | { kind: 'play'; buffers: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: audioArb(IDS).map((msg) => ({ kind: 'msg' as const, msg: coded(msg) })) },
  { weight: 3, arbitrary: controlArb(IDS).map((msg) => ({ kind: 'msg' as const, msg })) },
  { weight: 1, arbitrary: junkArb(IDS).map((msg) => ({ kind: 'msg' as const, msg })) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }).map((buffers) => ({ kind: 'play' as const, buffers })) },
);

describe('fuzz: speaker-out', function () {
  this.timeout(120_000);
  const guard = guardProcess();

  it('controller and playback queue: refuses only what the contract refuses, never plays a cancelled turn, then plays a fresh turn to its end', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 40 }), async (steps) => {
        const device = new StepDevice();
        const controls: ControlMessage[] = [];
        const ledger = new TurnLedger();
        let clock = 0;
        const controller: SpeakerController = new SpeakerController(
          { sampleRate: RATE, enqueue: (item) => queue.enqueue(item), cancel: (match) => queue.cancel(match) },
          {
            control: (m) => {
              controls.push(m);
              if (m.control.type === 'tts-end') ledger.finished(m.turnId);
            },
            metrics: () => undefined,
            status: () => undefined,
          },
        );
        const queue = new PlaybackQueue({ sampleRate: RATE, framesPerBuffer: BUFFER }, { started: (id) => controller.started(id), ended: (r) => controller.ended(r) });
        queue.attach(device);
        const play = (): void => {
          const samples = device.queued.shift();
          if (!samples) return;
          const turn = whose(samples);
          clock++;
          assert.ok(!ledger.stale(turn, clock), `played audio of ${turn} after it was cancelled`);
          queue.onPlayed();
        };
        try {
          for (const step of steps) {
            if (step.kind === 'play') {
              for (let i = 0; i < step.buffers; i++) play();
              continue;
            }
            const { msg } = step;
            const why = refused(msg);
            let error: unknown;
            try {
              controller.handle(msg);
            } catch (err) {
              error = err;
            }
            clock++;
            if (why === undefined) assert.equal(error, undefined, `refused ${show(msg)}: ${String(error)}`);
            else assert.ok(typeof (error as { code?: unknown })?.code === 'string', `took or refused without a code (${why}): ${show(msg)}`);
            if (error) continue;
            const c = validControl(msg);
            if (c) ledger.control(c.type, c.turnId, clock);
            else if (msg.stop === true) ledger.cancelOpen(clock);
            else if (typeof msg.turnId === 'string' && msg.turnId) ledger.begun(msg.turnId);
          }
          // Never stalls: whatever came before, a fresh turn plays to its end (its buffers after the backlog).
          controller.handle({ topic: 'audio', payload: coded({ turnId: 't-fresh', payload: Buffer.alloc(640 * 5) }).payload, audio: { sampleRate: RATE, channels: 1 }, turnId: 't-fresh', complete: true });
          const end = () => controls.find((m) => m.control.type === 'tts-end' && m.turnId === 't-fresh');
          for (let i = 0; i < 20_000 && !end(); i++) {
            play();
            if (!device.queued.length) await sleep(25); // the last buffer's end is a timer of one buffer
          }
          assert.ok(end(), `the fresh turn never ended (controls: ${controls.map((m) => `${m.control.type} ${m.turnId}`).join(', ')})`);
          assert.equal(end()!.control.cut, false);
          assert.equal(end()!.control.playedMs, 100);
          guard.check();
        } finally {
          queue.close();
        }
      }),
      fuzzParams(150),
    );
  });

  describe('in a real Node-RED runtime (WAV sink)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-fuzz-spk-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    afterEach(() => helper.unload());

    it('every message reaches Catch (with itself and a code) or Complete as the contract says, no tts-start of a cancelled turn, and a fresh turn plays with tts-end', async () => {
      await helper.load(speakerOut, fuzzFlow({ id: 'spk', type: 'speaker-out', sink: 'wav', wavPath: join(dir, 'out.wav'), wavRate: RATE }, 2));
      const traffic = new Traffic('spk');
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.oneof(audioArb(IDS), controlArb(IDS), junkArb(IDS), fc.constant<Msg>({ stop: true })), { maxLength: 25 }), async (msgs) => {
          // Each run has turn ids of its own: a turn cancelled in one run must not silence the next.
          const prefix = `r${run++}-`;
          const ledger = new TurnLedger();
          const rename = (m: Msg): Msg => {
            const t = (id: unknown) => (typeof id === 'string' && IDS.includes(id) ? prefix + id : id);
            const c = m.control && typeof m.control === 'object' ? { ...(m.control as Msg), turnId: t((m.control as Msg).turnId) } : m.control;
            return { ...m, turnId: t(m.turnId), ...(m.control !== undefined ? { control: c } : {}) };
          };
          const first = traffic.received;
          for (const raw of msgs) {
            const msg = rename(raw);
            const n = traffic.receive(msg);
            if (refused(msg) !== undefined) continue;
            const c = validControl(msg);
            if (c) ledger.control(c.type, c.turnId, traffic.processedAt[n]);
            else if (msg.stop === true) ledger.cancelOpen(traffic.processedAt[n]);
            else if (typeof msg.turnId === 'string' && msg.turnId) ledger.begun(msg.turnId);
          }
          const ns = traffic.since(first);
          await traffic.allSettled(ns, 10_000);
          traffic.assertVerdicts(ns, refused);
          const starts = traffic.sent.filter((s) => s.port === 0 && (s.msg.control as { type?: string }).type === 'tts-start');
          for (const s of starts) assert.ok(!ledger.stale(s.msg.turnId as string, s.at), `tts-start of ${String(s.msg.turnId)} after it was cancelled`);
          // A fresh turn after a stop (the backlog may hold up to 10 s of accepted audio) plays to its end.
          traffic.receive({ stop: true });
          const fresh = `${prefix}fresh`;
          traffic.receive({ topic: 'audio', payload: Buffer.alloc(640 * 3, 3), audio: { sampleRate: 22050, channels: 2, format: 's16le' }, turnId: fresh, complete: true });
          const ended = () => traffic.sent.find((s) => s.port === 0 && s.msg.turnId === fresh && (s.msg.control as { type?: string }).type === 'tts-end');
          await until(() => ended() !== undefined, 5000, `tts-end of ${fresh}`);
          assert.equal((ended()!.msg.control as { cut?: boolean }).cut, false);
          guard.check();
        }),
        fuzzParams(40),
      );
    });
  });
});
