import assert from 'node:assert/strict';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import { DEFAULTS } from '../../nodes/llama-llm/config';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import { fuzzParams, guardProcess } from '../support/fuzz-guard';
import { controlArb, controlProblem, junkArb, textArb, turnIdArb, validControl, type Msg } from '../support/fuzz-messages';
import { fuzzFlow, ready, Traffic } from '../support/fuzz-runtime';
import { runScope, TurnLedger } from '../support/fuzz-turns';
import type { LlamaReplay } from '../support/llama-replay';
import { toolCallingServer } from '../support/tool-call-sse';
import { sleep, until } from '../support/wait';

helper.init(require.resolve('node-red'));

const IDS = ['t-a', 't-b', 't-c'];
const CALL_IDS = ['c1', 'c2', 'c3', 'c4', 'nope'];
const [CHUNK, REPLY, TOOL_CALL] = [0, 1, 2];
/** The node's limit on one question (nodes/llama-llm/config.ts). */
const MAX_INPUT_CHARS = 4000;
const TOOLS = [
  { name: 'set_light', description: 'Switch a light', parameters: { type: 'object', properties: { room: { type: 'string' }, on: { type: 'boolean' } } }, needsKnownSpeaker: true },
  { name: 'get_temperature', description: 'A room temperature', parameters: { type: 'object', properties: { room: { type: 'string' } } } },
];
const BAD_TOOLS = ['set_light', [{ name: 'turn on' }], [{ name: 'x', parameters: { type: 'array' } }], { name: 'x' }];

const isReset = (msg: Msg) => msg.reset === true || msg.topic === 'reset' || msg.topic === 'clear';

/** What llama-llm's contract refuses among these messages. */
function refused(msg: Msg): string | undefined {
  if (msg.control != null) return controlProblem(msg.control);
  if (msg.toolCallId !== undefined) {
    if (typeof msg.toolCallId !== 'string' || !msg.toolCallId) return 'tool call id not text';
    return 'toolResult' in msg ? undefined : 'no toolResult';
  }
  if (isReset(msg)) return undefined;
  if (typeof msg.payload !== 'string') return 'not text';
  if (!msg.payload.trim()) return 'empty';
  if (msg.payload.trim().length > MAX_INPUT_CHARS) return 'too long';
  if (BAD_TOOLS.includes(msg.tools as never)) return 'bad msg.tools';
  return undefined;
}

const questionArb: fc.Arbitrary<Msg> = fc.record(
  {
    payload: fc.oneof({ weight: 6, arbitrary: textArb }, { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) }),
    turnId: turnIdArb(IDS),
    speaker: fc.oneof({ weight: 3, arbitrary: fc.constant({ name: 'alice', score: 0.9 }) }, { weight: 1, arbitrary: fc.constantFrom({ name: 'unknown', score: 0.1 }, 'alice', undefined) }),
    tools: fc.oneof({ weight: 4, arbitrary: fc.constant(TOOLS) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_TOOLS) }),
    toolChoice: fc.constantFrom('auto', 'required'),
  },
  { requiredKeys: ['payload', 'speaker', 'tools'] },
);
const resultArb: fc.Arbitrary<Msg> = fc.record(
  { toolCallId: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...CALL_IDS) }, { weight: 1, arbitrary: fc.constantFrom('', 7, null) }), toolResult: fc.anything({ maxDepth: 2 }) },
  { requiredKeys: ['toolCallId'] },
);
const stepArb: fc.Arbitrary<Msg> = fc.oneof(
  { weight: 2, arbitrary: questionArb },
  // A question given time to reach its call (questions that come together: only the newest runs).
  // Without a turn id, as a typed question: a new turn (a turn id of the run may be over already).
  { weight: 3, arbitrary: fc.tuple(questionArb, fc.integer({ min: 20, max: 120 })).map(([{ turnId: _t, ...q }, ms]) => ({ ...q, thenWaitMs: ms })) },
  { weight: 4, arbitrary: resultArb },
  { weight: 3, arbitrary: controlArb(IDS) },
  { weight: 1, arbitrary: junkArb(IDS) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 150 }).map((ms) => ({ waitMs: ms })) },
);

describe('fuzz: llama-llm tool calls (a local tool-calling server, real Node-RED runtime)', function () {
  this.timeout(180_000);
  const guard = guardProcess();
  let server: LlamaReplay;
  /** Ids the server gives its calls: this run's prefix and a count, as the steps name them. */
  let prefix = '';
  let calls = 0;
  before(async () => {
    server = await toolCallingServer(
      () => [{ id: `${prefix}c${++calls}`, name: 'set_light', arguments: { room: 'kitchen', on: true } }],
      () => ['The light', ' is on.', ' Anything else?'],
    );
  });
  after(() => server.stop());
  afterEach(() => helper.unload());

  it('every message settles as the contract says; no chunk, reply or tool call of a turn leaves after it was cancelled; a fresh question is answered', async () => {
    await helper.load(llamaLlm, fuzzFlow({ id: 'llm', type: 'llama-llm', ...DEFAULTS, url: server.base, style: 'none', systemPrompt: '', toolTimeout: 0.3 }, 5));
    await ready('llm', 30_000);
    const traffic = new Traffic('llm');
    // The set-up calls tools at all: a known speaker's question, its call answered, the answer given.
    prefix = 'warm-';
    traffic.receive({ payload: 'Turn on the kitchen light', turnId: 'warm', speaker: { name: 'alice', score: 0.9 }, tools: TOOLS });
    await until(() => traffic.sent.some((s) => s.port === TOOL_CALL), 5000, 'a tool call');
    traffic.receive({ toolCallId: 'warm-c1', toolResult: { ok: true } });
    await until(() => traffic.sent.some((s) => s.port === REPLY && s.msg.turnId === 'warm'), 5000, 'the answer after the result');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 14 }), async (steps) => {
        const scoped = runScope(IDS, run++);
        prefix = scoped.prefix;
        calls = 0;
        const ledger = new TurnLedger();
        const first = traffic.received;
        let seen = traffic.sent.length;
        const noteReplies = () => {
          for (; seen < traffic.sent.length; seen++) if (traffic.sent[seen].port === REPLY) ledger.finished(traffic.sent[seen].msg.turnId as string);
        };
        for (const { thenWaitMs, ...raw } of steps) {
          if (typeof raw.waitMs === 'number') {
            await sleep(raw.waitMs);
            continue;
          }
          const msg = typeof raw.toolCallId === 'string' && raw.toolCallId ? { ...raw, toolCallId: prefix + raw.toolCallId } : scoped.scope(raw);
          noteReplies();
          const n = traffic.receive(msg);
          // A tool result or a reset starts or cancels no turn.
          if (refused(msg) === undefined && msg.toolCallId === undefined && !isReset(msg)) {
            const at = traffic.processedAt[n];
            const control = validControl(msg);
            const turn = typeof msg.turnId === 'string' && msg.turnId ? msg.turnId : undefined;
            if (control) ledger.control(control.type, control.turnId, at);
            else {
              if (!turn || !ledger.isCancelled(turn)) ledger.cancelOpen(at, turn);
              if (turn) ledger.begun(turn);
            }
          }
          if (typeof thenWaitMs === 'number') await sleep(thenWaitMs);
        }
        const fresh = `${prefix}fresh`;
        traffic.receive({ payload: 'Is the light on?', turnId: fresh });
        const ns = traffic.since(first);
        await traffic.allSettled(ns, 60_000);
        traffic.assertVerdicts(ns, refused);
        const ids = new Set<string>();
        for (const s of traffic.sent.slice(seen)) {
          if (s.port === TOOL_CALL) {
            assert.ok(!ids.has(s.msg.toolCallId as string), `tool call ${String(s.msg.toolCallId)} sent twice`);
            ids.add(s.msg.toolCallId as string);
          }
        }
        for (const s of traffic.sent) {
          if (s.port !== CHUNK && s.port !== REPLY && s.port !== TOOL_CALL) continue;
          assert.ok(!ledger.stale(s.msg.turnId as string, s.at), `sent ${['a chunk', 'the reply', 'a tool call'][s.port]} of ${String(s.msg.turnId)} after it was cancelled: ${JSON.stringify(s.msg.payload)}`);
        }
        await until(() => traffic.sent.some((s) => s.port === REPLY && s.msg.turnId === fresh), 5000, 'the fresh question to be answered');
        guard.check();
      }),
      fuzzParams(20),
    );
  });
});
