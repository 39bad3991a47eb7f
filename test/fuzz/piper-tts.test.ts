import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import piperTts from '../../nodes/piper-tts/piper-tts';
import { fuzzParams, guardProcess } from '../support/fuzz-guard';
import { controlArb, controlProblem, junkArb, textArb, turnIdArb, type Msg } from '../support/fuzz-messages';
import { fuzzFlow, ready, Traffic } from '../support/fuzz-runtime';
import { playSteps, runScope, TurnLedger } from '../support/fuzz-turns';
import { writeTinyPiperVoice } from '../support/tiny-piper-voice';
import { until } from '../support/wait';

helper.init(require.resolve('node-red'));

const IDS = ['t-a', 't-b', 't-c'];
/** The node's limit on one text (nodes/piper-tts/piper-tts.ts). */
const MAX_CHARS = 20_000;

/** What piper-tts's contract refuses: a control event that is not one, text that is not text, empty or too long. */
function refused(msg: Msg): string | undefined {
  if (msg.control != null) return controlProblem(msg.control);
  if (msg.stop === true) return undefined;
  const p = msg.payload;
  if (typeof p !== 'string') return 'not text';
  // The LLM's last chunk (complete: true) may be empty: it only says the reply is complete.
  if (!p.trim() && msg.complete !== true) return 'nothing to say';
  if (p.length > MAX_CHARS) return 'too long';
  return undefined;
}

/** An LLM chunk, an announcement, or a text of any kind for a turn of the run. */
const textMsgArb: fc.Arbitrary<Msg> = fc.record(
  { payload: fc.oneof({ weight: 6, arbitrary: textArb }, { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) }), turnId: turnIdArb(IDS), complete: fc.boolean(), priority: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) },
  { requiredKeys: ['payload'] },
).map((m) => ({ topic: 'llm-chunk', ...m }));

const msgArb = fc.oneof({ weight: 5, arbitrary: textMsgArb }, { weight: 4, arbitrary: controlArb(IDS) }, { weight: 1, arbitrary: junkArb(IDS) }, { weight: 1, arbitrary: fc.constant<Msg>({ stop: true }) });
/** A message, or a pause that lets the node finish what it was saying (a slow LLM between two chunks). */
const stepArb: fc.Arbitrary<Msg> = fc.oneof({ weight: 5, arbitrary: msgArb }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 150 }).map((ms) => ({ waitMs: ms })) });

describe('fuzz: piper-tts (tiny voice, real Node-RED runtime)', function () {
  this.timeout(120_000);
  const guard = guardProcess();
  const dir = mkdtempSync(join(tmpdir(), 'rv-fuzz-tts-'));
  const voice = writeTinyPiperVoice(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => helper.unload());

  // Found by the property below: between two chunks of a reply nothing of it is queued, and a barge-in or
  // a stop only cancelled queued turns, so the reply's next chunk (already on its way from the LLM) was spoken.
  for (const [what, cancel] of [
    ['a barge-in', { topic: 'control', turnId: 't-user', control: { v: 1, type: 'speech-start', turnId: 't-user', ts: Date.now() } }],
    ['msg.stop', { stop: true }],
    ['an interrupt of every turn', { topic: 'control', turnId: '*', control: { v: 1, type: 'interrupt', turnId: '*', ts: Date.now() } }],
  ] as const) {
    it(`regression: ${what} between two chunks of a reply silences the chunks still coming`, async () => {
      await helper.load(piperTts, fuzzFlow({ id: 'tts', type: 'piper-tts', voicePath: voice, frameMs: 20 }, 3));
      await ready('tts', 20_000);
      const traffic = new Traffic('tts');
      traffic.receive({ topic: 'llm-chunk', payload: 'Hello there.', turnId: 't-reply', complete: false });
      await until(() => traffic.sent.some((s) => s.msg.turnId === 't-reply' && s.msg.chunkEnd === true), 15_000, 'the first chunk to be spoken');
      const n = traffic.receive(cancel);
      traffic.receive({ topic: 'llm-chunk', payload: 'The lights are on.', turnId: 't-reply', complete: true });
      traffic.receive({ topic: 'llm-chunk', payload: 'Yes.', turnId: 't-next', complete: true });
      await until(() => traffic.sent.some((s) => s.msg.turnId === 't-next' && s.msg.complete === true), 15_000, 'the next turn to be spoken');
      const late = traffic.sent.filter((s) => s.port === 0 && s.msg.turnId === 't-reply' && s.at > traffic.processedAt[n]);
      assert.deepEqual([...new Set(late.map((s) => s.msg.text))], []);
    });
  }

  // Found by the property below: a reply waiting for its next chunk, then a whole text of no turn, then an
  // announcement: the node tracked only its latest turn, so the announcement's cut missed the reply.
  it('regression: an announcement cuts a reply waiting for its next chunk even after another text began', async () => {
    await helper.load(piperTts, fuzzFlow({ id: 'tts', type: 'piper-tts', voicePath: voice, frameMs: 20 }, 3));
    await ready('tts', 20_000);
    const traffic = new Traffic('tts');
    traffic.receive({ topic: 'llm-chunk', payload: 'Hello there.', turnId: 't-reply', complete: false });
    traffic.receive({ topic: 'llm-chunk', payload: 'The post has come.' });
    await until(() => traffic.sent.some((s) => s.msg.turnId === 't-reply' && s.msg.chunkEnd === true), 15_000, 'the first chunk to be spoken');
    const n = traffic.receive({ topic: 'llm-chunk', payload: 'The door is open.', priority: true });
    traffic.receive({ topic: 'llm-chunk', payload: 'The lights are on.', turnId: 't-reply', complete: true });
    await traffic.allSettled([0, 1, 2, 3], 15_000);
    const late = traffic.sent.filter((s) => s.port === 0 && s.msg.turnId === 't-reply' && s.at > traffic.processedAt[n]);
    assert.deepEqual([...new Set(late.map((s) => s.msg.text))], []);
    assert.ok(traffic.sent.some((s) => s.port === 0 && s.msg.text === 'The door is open.' && s.msg.complete === true), 'the announcement was spoken');
  });

  it('every message settles as the contract says, no audio of a turn after it was cancelled, and a fresh text is spoken to its end', async () => {
    await helper.load(piperTts, fuzzFlow({ id: 'tts', type: 'piper-tts', voicePath: voice, frameMs: 20, sentenceSilence: 0.05 }, 3));
    await ready('tts', 20_000);
    const traffic = new Traffic('tts');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 16 }), async (steps) => {
        const { prefix, scope } = runScope(IDS, run++);
        const ledger = new TurnLedger();
        const first = traffic.received;
        // A whole text (a chunk that does not say the reply goes on) ends its turn once it is spoken: its
        // last frame left, or (nothing audible) its message settled. Until then a cancel-all still cuts it.
        const speaking = new Map<number, string>();
        let seen = traffic.sent.length;
        const noteFinished = () => {
          for (; seen < traffic.sent.length; seen++) {
            const s = traffic.sent[seen];
            if (s.port === 0 && s.msg.complete === true) ledger.finished(s.msg.turnId as string);
          }
          for (const [n, turn] of speaking) {
            if (traffic.settled.has(n)) {
              ledger.finished(turn);
              speaking.delete(n);
            }
          }
        };
        await playSteps(
          traffic,
          steps,
          scope,
          refused,
          ({ msg, at, control, turn }) => {
            if (control) ledger.control(control.type, control.turnId, at);
            else if (msg.stop === true) ledger.cancelOpen(at);
            else {
              // An announcement pre-empts what is being said (every other open turn is cut), unless its own
              // turn was cancelled: then it is dropped, and a dropped message changes nothing.
              if (msg.priority === true && !(turn && ledger.isCancelled(turn))) ledger.cancelOpen(at, turn);
              if (turn) ledger.begun(turn);
              if (turn && msg.complete !== false) speaking.set(traffic.received - 1, turn);
            }
          },
          noteFinished,
        );
        // Never stalls: after whatever came before, a fresh text is spoken to its last frame.
        const fresh = `${prefix}fresh`;
        traffic.receive({ topic: 'llm-chunk', payload: 'The lights are on.', turnId: fresh, complete: true });
        const ns = traffic.since(first);
        await traffic.allSettled(ns, 30_000);
        traffic.assertVerdicts(ns, refused);
        for (const s of traffic.sent) {
          if (s.port !== 0) continue;
          assert.ok(!ledger.stale(s.msg.turnId as string, s.at), `spoke "${String(s.msg.text)}" of ${String(s.msg.turnId)} after it was cancelled`);
        }
        await until(() => traffic.sent.some((s) => s.port === 0 && s.msg.turnId === fresh && s.msg.complete === true), 5000, 'the fresh text to be spoken');
        guard.check();
      }),
      fuzzParams(40),
    );
  });
});
