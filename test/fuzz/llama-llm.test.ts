import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import { fuzzParams, guardProcess } from '../support/fuzz-guard';
import { controlArb, controlProblem, junkArb, textArb, turnIdArb, type Msg } from '../support/fuzz-messages';
import { fuzzFlow, ready, Traffic } from '../support/fuzz-runtime';
import { playSteps, runScope, TurnLedger } from '../support/fuzz-turns';
import { SHARED_MODELS } from '../support/paths';
import { until } from '../support/wait';

helper.init(require.resolve('node-red'));

const TINY_GGUF = join(SHARED_MODELS, 'llm', 'stories260K.gguf');
const IDS = ['t-a', 't-b', 't-c'];
/** The node's limit on one question (nodes/llama-llm/config.ts). */
const MAX_INPUT_CHARS = 4000;
const CHUNK = 0;
const REPLY = 1;

/** What llama-llm's contract refuses: a bad control event, or a question that is not text, is empty or too long. */
function refused(msg: Msg): string | undefined {
  if (msg.control != null) return controlProblem(msg.control);
  if (msg.reset === true || msg.topic === 'reset' || msg.topic === 'clear') return undefined;
  const p = msg.payload;
  if (typeof p !== 'string') return 'not text';
  if (!p.trim()) return 'empty';
  if (p.trim().length > MAX_INPUT_CHARS) return 'too long';
  return undefined;
}

const questionArb: fc.Arbitrary<Msg> = fc.record(
  { payload: fc.oneof({ weight: 6, arbitrary: textArb }, { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) }), turnId: turnIdArb(IDS), conversationId: fc.constantFrom('default', 'kitchen', '', 3) },
  { requiredKeys: ['payload'] },
);
const stepArb: fc.Arbitrary<Msg> = fc.oneof(
  { weight: 5, arbitrary: questionArb },
  { weight: 4, arbitrary: controlArb(IDS) },
  { weight: 1, arbitrary: junkArb(IDS) },
  { weight: 1, arbitrary: fc.constant<Msg>({ reset: true }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 200 }).map((ms) => ({ waitMs: ms })) },
);

describe('fuzz: llama-llm (embedded engine, stories260K, real Node-RED runtime)', function () {
  this.timeout(120_000);
  const guard = guardProcess();
  afterEach(() => helper.unload());

  // Found by the property below: a question that arrived while the answer before it was stopping (or the
  // model loading) was not running yet, so a barge-in or an interrupt of every turn missed it and it answered over the user.
  for (const [what, cancel] of [
    ['a barge-in', { topic: 'control', turnId: 't-user', control: { v: 1, type: 'speech-start', turnId: 't-user', ts: Date.now() } }],
    ['an interrupt of every turn', { topic: 'control', turnId: '*', control: { v: 1, type: 'interrupt', turnId: '*', ts: Date.now() } }],
  ] as const) {
    it(`regression: ${what} cancels the question waiting for the answer before it to stop`, async function () {
      if (!existsSync(TINY_GGUF)) {
        console.log(`      skipped: no model (${TINY_GGUF})`);
        this.skip();
      }
      await helper.load(llamaLlm, fuzzFlow({ id: 'llm', type: 'llama-llm', modelPath: TINY_GGUF, threads: 1, contextSize: 512, tokenBudget: 200, maxTokens: 200, temperature: 0, style: 'none', systemPrompt: '' }, 5));
      await ready('llm', 30_000);
      const traffic = new Traffic('llm');
      traffic.receive({ payload: 'Once upon a time', turnId: 't-1' });
      await until(() => traffic.sent.some((s) => s.port === CHUNK && s.msg.turnId === 't-1'), 15_000, 'the first answer to stream');
      traffic.receive({ payload: 'Tell me about the dog', turnId: 't-2' });
      const n = traffic.receive(cancel);
      await traffic.allSettled([0, 1, 2], 30_000);
      traffic.receive({ payload: 'Once upon a time', turnId: 't-3' });
      await until(() => traffic.sent.some((s) => s.port === REPLY && s.msg.turnId === 't-3'), 15_000, 'a fresh question to be answered');
      const late = traffic.sent.filter((s) => (s.port === CHUNK || s.port === REPLY) && s.msg.turnId === 't-2' && s.at > traffic.processedAt[n]);
      assert.deepEqual(late.map((s) => s.msg.payload), []);
    });
  }

  it('every message settles as the contract says, nothing of a turn after it was cancelled, and a fresh question is answered', async function () {
    if (!existsSync(TINY_GGUF)) {
      console.log(`      skipped: no model (${TINY_GGUF})`);
      this.skip();
    }
    await helper.load(
      llamaLlm,
      fuzzFlow({ id: 'llm', type: 'llama-llm', modelPath: TINY_GGUF, threads: 1, contextSize: 512, tokenBudget: 200, maxTokens: 16, temperature: 0, style: 'none', systemPrompt: '' }, 5),
    );
    await ready('llm', 30_000);
    const traffic = new Traffic('llm');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 14 }), async (steps) => {
        const { prefix, scope } = runScope(IDS, run++);
        const ledger = new TurnLedger();
        const first = traffic.received;
        let seen = traffic.sent.length;
        // A turn whose reply has left is over: a later cancel-all does not concern it.
        const noteReplies = () => {
          for (; seen < traffic.sent.length; seen++) if (traffic.sent[seen].port === REPLY) ledger.finished(traffic.sent[seen].msg.turnId as string);
        };
        await playSteps(
          traffic,
          steps,
          scope,
          refused,
          ({ msg, at, control, turn }) => {
            if (control) ledger.control(control.type, control.turnId, at);
            else if (!(msg.reset === true || msg.topic === 'reset' || msg.topic === 'clear')) {
              // A new question supersedes the answer in progress.
              if (!turn || !ledger.isCancelled(turn)) ledger.cancelOpen(at, turn);
              if (turn) ledger.begun(turn);
            }
          },
          noteReplies,
        );
        const fresh = `${prefix}fresh`;
        traffic.receive({ payload: 'Once upon a time', turnId: fresh });
        const ns = traffic.since(first);
        await traffic.allSettled(ns, 30_000);
        traffic.assertVerdicts(ns, refused);
        for (const s of traffic.sent) {
          if (s.port !== CHUNK && s.port !== REPLY) continue;
          assert.ok(!ledger.stale(s.msg.turnId as string, s.at), `sent ${s.port === CHUNK ? 'a chunk' : 'the reply'} of ${String(s.msg.turnId)} after it was cancelled: ${String(s.msg.payload)}`);
        }
        await until(() => traffic.sent.some((s) => s.port === REPLY && s.msg.turnId === fresh), 5000, 'the fresh question to be answered');
        guard.check();
      }),
      fuzzParams(20),
    );
  });
});
