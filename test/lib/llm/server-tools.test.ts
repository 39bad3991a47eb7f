import assert from 'node:assert/strict';
import type { ChatMessage } from '../../../lib/llm/engine';
import { ServerEngine, type ServerOptions } from '../../../lib/llm/server-engine';
import { MAX_TOOL_ROUNDS } from '../../../lib/llm/tool-rounds';
import type { ToolCall, ToolDefinition } from '../../../lib/llm/tools';
import { fixture, LlamaReplay } from '../../support/llama-replay';
import { textStream, toolCallStream, type SentChat } from '../../support/tool-call-sse';

const sampling = { maxTokens: 64, temperature: 0, topK: 40, topP: 0.95, lowLatency: true };
const messages: ChatMessage[] = [
  { role: 'system', content: 'You control the house.' },
  { role: 'user', content: 'Turn on the kitchen light' },
];
const SET_LIGHT: ToolDefinition = {
  name: 'set_light',
  description: 'Switch the light of a room on or off',
  parameters: { type: 'object', properties: { room: { type: 'string' }, on: { type: 'boolean' } }, required: ['room', 'on'] },
  needsKnownSpeaker: false,
};
const GET_TEMPERATURE: ToolDefinition = { name: 'get_temperature', description: 'The temperature of a room', parameters: { type: 'object', properties: { room: { type: 'string' } } }, needsKnownSpeaker: false };
const CHAT = '/v1/chat/completions';

describe('ServerEngine tool calls against a local server speaking the OpenAI tool-call stream', () => {
  let server: LlamaReplay;
  const engines: ServerEngine[] = [];
  const engine = (opts: Partial<ServerOptions> = {}) => {
    const e = new ServerEngine({ url: server.base, endpoint: 'chat', allowH2: false, rawBytes: false, ...opts });
    engines.push(e);
    return e;
  };
  const sent = (i: number) => JSON.parse(server.requests.filter((r) => r.path === CHAT)[i].body) as SentChat;
  /** Plays `replies` in turn, one per request to the chat endpoint. */
  const script = (replies: { body: string; chunkSize?: number }[]) => {
    let n = 0;
    server.route(CHAT, () => replies[Math.min(n++, replies.length - 1)]);
  };

  beforeEach(async () => {
    server = await new LlamaReplay().start();
    server.route('/health', { body: fixture('health.json'), contentType: 'application/json' });
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
    await server.stop();
  });

  for (const rawBytes of [false, true]) {
    for (const chunkSize of [1, 13, 65536]) {
      it(`offers the tools, runs the streamed call, and speaks the answer to its result (${rawBytes ? 'raw bytes' : 'parsed'}, ${chunkSize}-byte pieces)`, async () => {
        script([
          { body: toolCallStream([{ id: 'call_a1', name: 'set_light', arguments: { room: 'kitchen', on: true } }], { fragment: 3 }), chunkSize },
          { body: textStream(['The kitchen', ' light is on.']), chunkSize },
        ]);
        const calls: ToolCall[] = [];
        let text = '';
        const marks = await engine({ rawBytes }).generate({
          messages,
          sampling,
          signal: new AbortController().signal,
          onText: (t) => (text += t),
          tools: [SET_LIGHT],
          callTool: async (call) => {
            calls.push(call);
            return { ok: true, state: 'on' };
          },
        });
        assert.deepEqual(calls, [{ id: 'call_a1', name: 'set_light', arguments: { room: 'kitchen', on: true } }]);
        assert.equal(text, 'The kitchen light is on.');
        assert.equal(marks.tokens, 8 + 2, "both rounds' server counts");
        assert.equal(marks.truncated, false);
        const first = sent(0);
        assert.deepEqual(first.tools, [{ type: 'function', function: { name: 'set_light', description: SET_LIGHT.description, parameters: SET_LIGHT.parameters } }]);
        assert.equal(first.parallel_tool_calls, true);
        const second = sent(1);
        assert.deepEqual(second.messages.slice(2), [
          { role: 'assistant', content: '', tool_calls: [{ id: 'call_a1', type: 'function', function: { name: 'set_light', arguments: '{"room":"kitchen","on":true}' } }] },
          { role: 'tool', tool_call_id: 'call_a1', content: '{"ok":true,"state":"on"}' },
        ]);
      });
    }
  }

  it('takes several calls of one reply, their fragments interleaved, runs them at once and answers them in order', async () => {
    script([
      {
        body: toolCallStream(
          [
            { id: 'c1', name: 'set_light', arguments: { room: 'kitchen', on: true } },
            { id: 'c2', name: 'get_temperature', arguments: { room: 'hall' } },
          ],
          { interleave: true, fragment: 2 },
        ),
      },
      { body: textStream(['Done, and the hall is 19 degrees.']) },
    ]);
    let running = 0;
    let together = 0;
    const marks = await engine().generate({
      messages,
      sampling,
      signal: new AbortController().signal,
      onText: () => undefined,
      tools: [SET_LIGHT, GET_TEMPERATURE],
      callTool: async (call) => {
        together = Math.max(together, ++running);
        await new Promise((r) => setTimeout(r, call.id === 'c1' ? 30 : 5)); // the second answers first
        running--;
        return call.name === 'get_temperature' ? '19 °C' : { ok: true };
      },
    });
    assert.equal(together, 2, 'both calls were out at the same time');
    const second = sent(1);
    assert.deepEqual(
      second.messages[2].tool_calls?.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)]),
      [
        ['c1', 'set_light', { room: 'kitchen', on: true }],
        ['c2', 'get_temperature', { room: 'hall' }],
      ],
    );
    assert.deepEqual(second.messages.slice(3), [
      { role: 'tool', tool_call_id: 'c1', content: '{"ok":true}' },
      { role: 'tool', tool_call_id: 'c2', content: '19 °C' },
    ]);
    assert.ok(marks.firstToken! > marks.requestSent, 'the first token is the second round\'s: the first said nothing');
  });

  it('answers arguments that are not a JSON object itself, without running the call', async () => {
    const broken = toolCallStream([{ id: 'c1', name: 'set_light', arguments: '{"room": "kitch' }]);
    script([{ body: broken }, { body: textStream(['Sorry.']) }]);
    let called = false;
    await engine().generate({ messages, sampling, signal: new AbortController().signal, onText: () => undefined, tools: [SET_LIGHT], callTool: async () => (called = true) });
    assert.equal(called, false);
    const answer = sent(1).messages.at(-1)!;
    assert.equal(answer.role, 'tool');
    assert.match(answer.content!, /not a JSON object/);
  });

  it(`offers no tools in round ${MAX_TOOL_ROUNDS + 1}: a model that keeps calling must answer in words`, async () => {
    let n = 0;
    server.route(CHAT, () => ({ body: n++ < MAX_TOOL_ROUNDS ? toolCallStream([{ id: `c${n}`, name: 'get_temperature', arguments: { room: 'hall' } }]) : textStream(['It is 19 degrees.']) }));
    let text = '';
    await engine().generate({ messages, sampling, signal: new AbortController().signal, onText: (t) => (text += t), tools: [GET_TEMPERATURE], callTool: async () => '19 °C' });
    assert.equal(text, 'It is 19 degrees.');
    const chats = server.requests.filter((r) => r.path === CHAT).map((r) => JSON.parse(r.body) as SentChat);
    assert.equal(chats.length, MAX_TOOL_ROUNDS + 1);
    assert.ok(chats.slice(0, MAX_TOOL_ROUNDS).every((c) => c.tools?.length === 1));
    assert.equal(chats.at(-1)!.tools, undefined);
  });

  it('stops at an abort while a call is out: no further request, the generation rejects as aborted', async () => {
    script([{ body: toolCallStream([{ id: 'c1', name: 'set_light', arguments: { room: 'kitchen', on: true } }]) }, { body: textStream(['never']) }]);
    const abort = new AbortController();
    const generation = engine().generate({
      messages,
      sampling,
      signal: abort.signal,
      onText: () => assert.fail('nothing is said after the abort'),
      tools: [SET_LIGHT],
      callTool: () =>
        new Promise((_resolve, reject) => {
          abort.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
          setTimeout(() => abort.abort(), 10);
        }),
    });
    await assert.rejects(generation, { name: 'AbortError' });
    assert.equal(server.requests.filter((r) => r.path === CHAT).length, 1);
  });

  it('sends no tools on /completion (no place for them in a plain prompt) and says so by supportsTools', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse') });
    const plain = engine({ endpoint: 'completion' });
    assert.equal(plain.supportsTools, false);
    assert.equal(engine().supportsTools, true);
    await plain.generate({ messages, sampling, signal: new AbortController().signal, onText: () => undefined, tools: [SET_LIGHT], callTool: async () => assert.fail('no call') });
    assert.equal(JSON.parse(server.requests.at(-1)!.body).tools, undefined);
  });

  it('sends no tools key when none are offered (a plain chat request stays as it was)', async () => {
    script([{ body: textStream(['Hello.']) }]);
    await engine().generate({ messages, sampling, signal: new AbortController().signal, onText: () => undefined });
    assert.equal(sent(0).tools, undefined);
    assert.equal(sent(0).parallel_tool_calls, undefined);
  });
});
