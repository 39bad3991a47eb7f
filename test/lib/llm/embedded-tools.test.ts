import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EmbeddedEngine } from '../../../lib/llm/embedded-engine';
import type { ChatMessage } from '../../../lib/llm/engine';
import type { ToolCall, ToolDefinition } from '../../../lib/llm/tools';
import { GEMMA_LLM, installedModel } from '../../support/real-models';

const SET_LIGHT: ToolDefinition = {
  name: 'set_light',
  description: 'Switch the light of a room on or off',
  parameters: { type: 'object', properties: { room: { type: 'string' }, on: { type: 'boolean' } }, required: ['room', 'on'] },
  needsKnownSpeaker: false,
};
const GET_TEMPERATURE: ToolDefinition = {
  name: 'get_temperature',
  description: 'The temperature of a room in degrees Celsius',
  parameters: { type: 'object', properties: { room: { type: 'string' } }, required: ['room'] },
  needsKnownSpeaker: false,
};
const question: ChatMessage[] = [
  { role: 'system', content: 'You control the lights of the house.' },
  { role: 'user', content: 'Turn on the kitchen light' },
];
const sampling = { maxTokens: 40, temperature: 0, topK: 40, topP: 0.95, lowLatency: true };

describe(`EmbeddedEngine tool calls (node-llama-cpp function calling, real ${GEMMA_LLM}, 1 thread)`, function () {
  this.timeout(180_000);
  const dir = installedModel(GEMMA_LLM);
  let engine: EmbeddedEngine;

  before(async function () {
    if (!dir) {
      console.log(`      skipped: no model ${GEMMA_LLM} (installed by scripts/test-models.sh into $VOICE_MODELS_DIR)`);
      this.skip();
    }
    engine = new EmbeddedEngine({ modelPath: join(dir, 'model.gguf'), threads: 1, contextSize: 1024 });
    await engine.start([{ role: 'user', content: 'Hello' }]);
  });
  after(() => engine?.close());

  const run = async (messages: ChatMessage[], tools: ToolDefinition[], answer: (call: ToolCall) => unknown, signal = new AbortController().signal) => {
    const calls: ToolCall[] = [];
    let text = '';
    const marks = await engine.generate({
      messages,
      sampling,
      signal,
      onText: (t) => (text += t),
      tools,
      toolChoice: 'required',
      callTool: async (call) => {
        calls.push(call);
        return answer(call);
      },
    });
    return { calls, text, marks };
  };

  it('a required call is grammar-forced: a tool offered, arguments of the schema, then the model goes on with the result', async () => {
    const { calls, text, marks } = await run(question, [SET_LIGHT, GET_TEMPERATURE], () => ({ ok: true }));
    assert.ok(calls.length >= 1, 'the model called');
    const [call] = calls;
    assert.ok(['set_light', 'get_temperature'].includes(call.name), call.name);
    // The grammar allows only the schema: every argument of it, of its type, nothing else.
    if (call.name === 'set_light') {
      assert.deepEqual(Object.keys(call.arguments).sort(), ['on', 'room']);
      assert.equal(typeof call.arguments.room, 'string');
      assert.equal(typeof call.arguments.on, 'boolean');
    } else {
      assert.deepEqual(Object.keys(call.arguments), ['room']);
    }
    assert.match(call.id, /^call-/);
    assert.ok(!text.includes('"arguments"'), 'the forced call itself is not spoken');
    assert.ok(text.trim().length > 0, 'the model went on after the result, in words');
    assert.ok(marks.tokens > 0);
  });

  it('the one tool offered, required, is the one called, with the room a string', async () => {
    const { calls } = await run(question, [SET_LIGHT], () => 'The kitchen light is now on.');
    assert.equal(calls[0].name, 'set_light');
    assert.equal(typeof calls[0].arguments.room, 'string');
  });

  it('takes a history with calls and results (one model response) and answers after it', async () => {
    const history: ChatMessage[] = [
      ...question,
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'set_light', arguments: { room: 'kitchen', on: true } }] },
      { role: 'tool', toolCallId: 'c1', content: '{"ok":true}' },
      { role: 'assistant', content: 'The kitchen light is on.' },
      { role: 'user', content: 'Thank you' },
    ];
    let text = '';
    const marks = await engine.generate({ messages: history, sampling, signal: new AbortController().signal, onText: (t) => (text += t) });
    assert.ok(marks.tokens > 0 && text.length > 0, text);
  });

  it('an abort while the call is out rejects the generation, and the engine answers the next one', async () => {
    const abort = new AbortController();
    const generation = engine.generate({
      messages: question,
      sampling,
      signal: abort.signal,
      onText: () => undefined,
      tools: [SET_LIGHT],
      toolChoice: 'required',
      callTool: () =>
        new Promise((_resolve, reject) => {
          abort.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
          abort.abort();
        }),
    });
    await assert.rejects(generation, { name: 'AbortError' });
    const again = await run(question, [SET_LIGHT], () => ({ ok: true }));
    assert.equal(again.calls[0].name, 'set_light');
  });
});
