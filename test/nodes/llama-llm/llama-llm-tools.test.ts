import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import { makeControl } from '../../../lib/messages/control';
import { DEFAULTS } from '../../../nodes/llama-llm/config';
import llamaLlm from '../../../nodes/llama-llm/llama-llm';
import type { LlamaReplay } from '../../support/llama-replay';
import { collect, nextMessage, statusesOf } from '../../support/node-red';
import { textStream, toolCallingServer, toolCallStream, type SentChat, type StreamedToolCall } from '../../support/tool-call-sse';
import { sleep, until } from '../../support/wait';

// The core function node, as a flow answers a tool call.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require('@node-red/nodes/core/function/10-function.js') as never;

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown> & { payload?: unknown };
const CHAT = '/v1/chat/completions';
const TOOLS = [
  {
    name: 'set_light',
    description: 'Switch the light of a room on or off',
    parameters: { type: 'object', properties: { room: { type: 'string' }, on: { type: 'boolean' } }, required: ['room', 'on'] },
    needsKnownSpeaker: true,
  },
  { name: 'get_temperature', description: 'The temperature of a room in °C', parameters: { type: 'object', properties: { room: { type: 'string' } } } },
];
/** The function node of the voice-control example, in short: the house's state in its context. */
const HOUSE = `
const lights = context.get('lights') || {};
const { name, arguments: args } = msg.payload;
if (name === 'set_light') { lights[args.room] = args.on; context.set('lights', lights); msg.toolResult = { ok: true, room: args.room, on: args.on }; }
else if (name === 'get_temperature') msg.toolResult = { room: args.room, celsius: 21 };
else msg.toolResult = { error: 'unknown action' };
return msg;`;
const VETO = `msg.toolResult = { error: 'not allowed' }; return msg;`;

function flow(llm: Record<string, unknown>, answer: string | null) {
  return [
    { id: 'f1', type: 'tab' },
    // As the editor saves a node today: every setting, version 3.
    { id: 'llm', z: 'f1', type: 'llama-llm', ...DEFAULTS, version: 3, ...llm, wires: [['chunks'], ['reply'], answer ? ['calls', 'house'] : ['calls'], ['control'], ['metrics']] },
    ...(answer ? [{ id: 'house', z: 'f1', type: 'function', func: answer, outputs: 1, wires: [['llm']] }] : []),
    ...['chunks', 'reply', 'calls', 'control', 'metrics', 'caught'].map((id) => ({ id, z: 'f1', type: 'helper' })),
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  ];
}

type Spy = { args: unknown[][] };
/** The function node's state (made in its sandbox: compared as JSON). */
const lights = () => JSON.parse(JSON.stringify(helper.getNode('house').context().get('lights') ?? null)) as unknown;
const warnings = () => ((helper.getNode('llm') as unknown as Record<string, Spy>).warn.args.flat() as string[]).join('\n');

describe('llama-llm tools in a real Node-RED, the server speaking the OpenAI tool-call stream', function () {
  this.timeout(10_000);
  let server: LlamaReplay;
  /** What the model calls when offered tools; answered in words once it has results. */
  let calls: StreamedToolCall[];
  let answer: string[];
  const chats = () => server.requests.filter((r) => r.path === CHAT).map((r) => JSON.parse(r.body) as SentChat);
  /** The requests of turns (the deploy's warm-up has no tools and is left out). */
  const turnChats = () => chats().filter((c) => c.messages.at(-1)?.content !== 'Hello');
  /** The last turn's prompt as [role, text or the call's name or id]. */
  const lastHistory = () => turnChats().at(-1)!.messages.map((m) => [m.role, m.tool_calls?.[0]?.function.name ?? m.tool_call_id ?? m.content]);
  /** The prompt of "Is it on?" after the light was switched on: the call and its result are in the history. */
  const LIGHT_ON_THEN_ASKED = [
    ['system', 'You run the house.'],
    ['user', 'Turn on the kitchen light'],
    ['assistant', 'set_light'],
    ['tool', 'call_k1'],
    ['assistant', 'The kitchen light is on.'],
    ['user', 'Is it on?'],
  ];

  beforeEach(async () => {
    calls = [{ id: 'call_k1', name: 'set_light', arguments: { room: 'kitchen', on: true } }];
    answer = ['The kitchen', ' light is on.'];
    server = await toolCallingServer(
      () => calls,
      () => answer,
    );
  });
  afterEach(async () => {
    await helper.unload();
    await server.stop();
  });

  const load = (llm: Record<string, unknown> = {}, house: string | null = HOUSE) =>
    helper.load([llamaLlm, functionNode], flow({ url: server.base, endpoint: 'chat', style: 'none', systemPrompt: 'You run the house.', tools: JSON.stringify(TOOLS), ...llm }, house));
  const alice = { name: 'alice', score: 0.81 };

  it('"turn on the kitchen light": the call goes out, the function node switches the light, the answer is spoken', async () => {
    await load();
    const chunks = collect<Msg>('chunks');
    const toolCalls = collect<Msg>('calls');
    const reply = nextMessage<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', turnId: 't-1', conversationId: 'home', speaker: alice, room: 'kitchen' } as never);
    const r = await reply;
    assert.deepEqual(lights(), { kitchen: true });
    assert.equal(toolCalls.length, 1);
    const { _msgid, ...call } = toolCalls[0];
    assert.ok(_msgid);
    assert.deepEqual(call, {
      topic: 'llm-tool-call',
      payload: { name: 'set_light', arguments: { room: 'kitchen', on: true } },
      toolCallId: 'call_k1',
      turnId: 't-1',
      conversationId: 'home',
      speaker: alice,
      room: 'kitchen',
    });
    assert.equal(r.payload, 'The kitchen light is on.');
    // What the node showed meanwhile: the call, the model reading its result, its words.
    const texts = statusesOf('llm').map((st) => st.text);
    const from = texts.indexOf('calling set_light');
    assert.deepEqual(texts.slice(from, from + 3), ['calling set_light', 'thinking…', 'speaking…'], texts.join(' | '));
    assert.equal(chunks.map((c) => c.payload).join(' ').trim(), 'The kitchen light is on.');
    const [first, second] = turnChats();
    assert.deepEqual(first.tools?.map((t) => t.function.name), ['set_light', 'get_temperature']);
    assert.deepEqual(second.messages.at(-1), { role: 'tool', tool_call_id: 'call_k1', content: '{"ok":true,"room":"kitchen","on":true}' });
  });

  it('keeps the calls and results in the history, where the chat template expects them', async () => {
    await load();
    const replies = collect<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', speaker: alice } as never);
    await until(() => replies.length === 1, 5000, 'the first reply');
    calls = [];
    answer = ['It is on.'];
    helper.getNode('llm').receive({ payload: 'Is it on?', speaker: alice } as never);
    await until(() => replies.length === 2, 5000, 'the second reply');
    assert.deepEqual(lastHistory(), LIGHT_ON_THEN_ASKED);
  });

  it('a barge-in during the confirmation keeps the answered call in the history (the light is on), and what was said', async () => {
    server.route(CHAT, () => {
      const sent = JSON.parse(server.requests.at(-1)!.body) as SentChat;
      if (sent.messages.at(-1)!.role === 'user' && sent.tools) return { body: toolCallStream(calls) };
      // The confirmation, slowly: one sentence, then a long tail the user talks over.
      return { body: textStream(['The kitchen light is on.', ' It is a lovely', ' evening', ' for it.']), chunkSize: 40, gapMs: 40 };
    });
    await load();
    const chunks = collect<Msg>('chunks');
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', turnId: 't-cut', speaker: alice } as never);
    await until(() => chunks.some((c) => c.payload === 'The kitchen light is on.'), 5000, 'the first sentence');
    helper.getNode('llm').receive(makeControl('speech-start', 't-next', { source: 'asr' }) as never);
    await sleep(100);
    calls = [];
    answer = ['Yes.'];
    const reply = nextMessage<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Is it on?', turnId: 't-next', speaker: alice } as never);
    await reply;
    assert.deepEqual(lastHistory(), LIGHT_ON_THEN_ASKED);
  });

  it('runs several calls of one turn, each its own message, and answers them all', async () => {
    calls = [
      { id: 'c1', name: 'set_light', arguments: { room: 'kitchen', on: true } },
      { id: 'c2', name: 'get_temperature', arguments: { room: 'kitchen' } },
    ];
    answer = ['The light is on and it is 21 degrees.'];
    await load();
    const toolCalls = collect<Msg>('calls');
    const reply = nextMessage<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Light on and how warm is it?', speaker: alice } as never);
    assert.equal((await reply).payload, 'The light is on and it is 21 degrees.');
    assert.deepEqual(toolCalls.map((c) => c.toolCallId), ['c1', 'c2']);
    assert.deepEqual(turnChats()[1].messages.slice(-2).map((m) => [m.tool_call_id, m.content]), [
      ['c1', '{"ok":true,"room":"kitchen","on":true}'],
      ['c2', '{"room":"kitchen","celsius":21}'],
    ]);
  });

  it('lets the flow veto a call: the model hears "not allowed" and says so', async () => {
    answer = ['Sorry, I am not allowed to do that.'];
    await load({}, VETO);
    const reply = nextMessage<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', speaker: alice } as never);
    assert.equal((await reply).payload, 'Sorry, I am not allowed to do that.');
    assert.equal(turnChats()[1].messages.at(-1)!.content, '{"error":"not allowed"}');
  });

  it('tells the model when the flow does not answer within the tool timeout, and still speaks', async () => {
    answer = ['I could not reach the light.'];
    await load({ toolTimeout: 0.2 }, null);
    const reply = nextMessage<Msg>('reply');
    const metrics = nextMessage<Msg & { payload: { tool_calls: number; tool_wait_ms: number } }>('metrics');
    const t0 = performance.now();
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', speaker: alice } as never);
    assert.equal((await reply).payload, 'I could not reach the light.');
    assert.ok(performance.now() - t0 >= 200, 'it waited the timeout');
    assert.match(turnChats()[1].messages.at(-1)!.content!, /did not answer within 0\.2 s/);
    const { payload } = await metrics;
    assert.equal(payload.tool_calls, 1);
    assert.ok(payload.tool_wait_ms >= 195 && payload.tool_wait_ms < 1000, `${payload.tool_wait_ms} ms waited`);
  });

  it('an interrupt during a pending call cancels it: the late result is dropped, nothing of the turn is spoken', async () => {
    await load({}, null);
    const chunks = collect<Msg>('chunks');
    const replies = collect<Msg>('reply');
    const toolCall = nextMessage<Msg>('calls');
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', turnId: 't-9', speaker: alice } as never);
    const call = await toolCall;
    helper.getNode('llm').receive(makeControl('interrupt', 't-9', { source: 'test' }) as never);
    await sleep(50);
    helper.getNode('llm').receive({ toolCallId: call.toolCallId, toolResult: { ok: true }, turnId: 't-9' } as never);
    await sleep(200);
    assert.equal(turnChats().length, 1, 'the model was not asked to go on');
    assert.deepEqual(replies, []);
    assert.deepEqual(chunks.filter((c) => c.payload), []);
    assert.match(warnings(), /tool result for call_k1 dropped/);
  });

  it('offers a gated tool only to an enrolled voice on the allow-list; others are refused and the model is told', async () => {
    answer = ['I cannot do that for an unknown voice.'];
    await load({ allowedSpeakers: 'alice' });
    const replies = collect<Msg>('reply');
    const toolCalls = collect<Msg>('calls');
    const turns = [
      { payload: 'Turn on the kitchen light', speaker: { name: 'unknown', score: 0.2 } },
      { payload: 'Turn on the kitchen light', speaker: { name: 'bob', score: 0.9 } },
      { payload: 'Turn on the kitchen light' }, // typed, the flow set no speaker
    ];
    for (const [i, turn] of turns.entries()) {
      helper.getNode('llm').receive({ ...turn, conversationId: `c${i}` } as never);
      await until(() => replies.length === i + 1, 5000, `reply ${i + 1}`);
    }
    assert.deepEqual(toolCalls, [], 'the flow never saw a call');
    for (const sent of turnChats()) {
      assert.deepEqual(sent.tools?.map((t) => t.function.name), ['get_temperature']);
      assert.match(sent.messages[0].content!, /may not use these actions for them: set_light/);
    }
    assert.deepEqual(replies.map((r) => r.payload), Array(3).fill('I cannot do that for an unknown voice.'));
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', speaker: alice } as never);
    await until(() => replies.length === 4, 5000, "alice's reply");
    assert.equal(toolCalls.length, 1, 'alice may');
  });

  it('answers a call of a tool it did not offer "not allowed" without asking the flow', async () => {
    server.route(CHAT, () => {
      const sent = JSON.parse(server.requests.at(-1)!.body) as SentChat;
      const last = sent.messages.at(-1)!;
      // A model that calls set_light although it was not offered.
      return { body: last.role === 'user' && sent.tools ? toolCallStream(calls) : textStream(['No.']) };
    });
    await load();
    const toolCalls = collect<Msg>('calls');
    const reply = nextMessage<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', speaker: { name: 'unknown', score: 0 } } as never);
    await reply;
    assert.deepEqual(toolCalls, []);
    assert.match(turnChats()[1].messages.at(-1)!.content!, /not allowed: this action needs a known speaker/);
  });

  it("takes a message's own tools, and refuses bad msg.tools or an unanswerable result with an error to Catch", async () => {
    await load({ tools: '[]' });
    const caught = collect<{ error: { message: string } }>('caught');
    const reply = nextMessage<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', speaker: alice, tools: [{ type: 'function', function: TOOLS[0] }] } as never);
    await reply;
    assert.deepEqual(turnChats()[0].tools?.map((t) => t.function.name), ['set_light']);
    assert.deepEqual(lights(), { kitchen: true });
    helper.getNode('llm').receive({ payload: 'Hi', tools: { name: 'x' } } as never);
    helper.getNode('llm').receive({ payload: 'Hi', tools: [{ name: 'bad name' }] } as never);
    helper.getNode('llm').receive({ toolCallId: 'call_k1' } as never);
    helper.getNode('llm').receive({ toolCallId: 42, toolResult: 1 } as never);
    await until(() => caught.length === 4, 2000, 'four errors');
    assert.match(caught[0].error.message, /msg\.tools must be a list/);
    assert.match(caught[1].error.message, /msg\.tools\[0\]\.name/);
    assert.match(caught[2].error.message, /msg\.toolResult is missing/);
    assert.match(caught[3].error.message, /msg\.toolCallId must be/);
  });

  it('asks for a call in the first round only with msg.toolChoice "required", and refuses another value', async () => {
    await load();
    const caught = collect<{ error: { message: string } }>('caught');
    const reply = nextMessage<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Turn on the kitchen light', speaker: alice, toolChoice: 'required' } as never);
    await reply;
    assert.deepEqual(turnChats().map((c) => (c as SentChat & { tool_choice?: string }).tool_choice), ['required', undefined]);
    helper.getNode('llm').receive({ payload: 'Hi', toolChoice: 'always' } as never);
    await until(() => caught.length === 1, 2000, 'the error');
    assert.match(caught[0].error.message, /msg\.toolChoice must be "auto" or "required", got "always"/);
  });

  it('fails every message with BAD_TOOLS when the tools setting is not valid, naming the problem', async () => {
    await load({ tools: '[{"name":"x", "parameters": {"type": "array"}}]' });
    const caught = nextMessage<{ error: { message: string } }>('caught');
    helper.getNode('llm').receive({ payload: 'Hi' } as never);
    assert.match((await caught).error.message, /tools setting is not a valid list of tools: .*type "object"/);
  });

  it('keeps the meaning of the wires of a node saved with four outputs (chunks, reply, control, metrics)', async () => {
    calls = [];
    const old = flow({ url: server.base, endpoint: 'chat', style: 'none', version: 2 }, null);
    Object.assign(old[1], { wires: [['chunks'], ['reply'], ['control'], ['metrics']] });
    await helper.load([llamaLlm, functionNode], old);
    const controls = collect<Msg>('control');
    const metrics = nextMessage<Msg>('metrics');
    helper.getNode('llm').receive({ payload: 'Hello there' } as never);
    assert.equal((await metrics).topic, 'metrics');
    assert.deepEqual(controls.map((c) => (c.control as { type: string }).type), ['pause', 'resume']);
  });
});
