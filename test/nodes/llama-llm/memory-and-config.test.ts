import assert from 'node:assert/strict';
import { migrate } from '../../../lib/nodered/migrate';
import { CONFIG_VERSION, controllerSettings, DEFAULTS, MIGRATIONS, migrateWires, nodeTools, stallTimeoutMs, toolTimeoutMs, type LlamaLlmConfig } from '../../../nodes/llama-llm/config';
import { defaultThreads, physicalCores } from '../../../lib/llm/cpu-cores';
import { estimateTokens } from '../../../lib/llm/engine';
import { ConversationMemory, fitBudget, type Summariser } from '../../../lib/llm/memory';

const never = new AbortController().signal;

describe('ConversationMemory', () => {
  const memory = (budget: number, after = 100, summarise?: Summariser) =>
    new ConversationMemory({ tokenBudget: budget, summariseAfter: after }, estimateTokens, summarise);

  it('keeps the newest turns that fit the token budget, oldest dropped first', () => {
    const m = memory(25); // ~9 tokens per turn, 5 for system + user: room for two turns
    for (let i = 1; i <= 5; i++) m.record('kitchen', `t${i}`, `question number ${i}`, `answer number ${i}.`);
    const msgs = m.messages('kitchen', 'Be brief.', 'next?');
    assert.equal(msgs[0].content, 'Be brief.');
    assert.equal(msgs.at(-1)!.content, 'next?');
    const kept = msgs.filter((x) => x.role === 'user').map((x) => x.content);
    assert.deepEqual(kept, ['question number 4', 'question number 5', 'next?']);
  });

  it('keeps conversations apart and clears one', () => {
    const m = memory(1000);
    m.record('a', 't1', 'hi from a', 'hello a');
    m.record('b', 't2', 'hi from b', 'hello b');
    m.clear('a');
    assert.equal(m.messages('a', '', 'x').length, 1);
    assert.equal(m.messages('b', '', 'x').length, 3);
  });

  it('forgets the least recently used conversation beyond 100', () => {
    const m = memory(1000);
    for (let i = 0; i <= 100; i++) m.record(`c${i}`, `t${i}`, 'q', 'a');
    assert.equal(m.history('c0').turns.length, 0, 'the oldest went');
    assert.equal(m.history('c100').turns.length, 1);
    assert.equal(m.history('c1').turns.length, 1);
  });

  it('folds old turns into a summary after N turns', async () => {
    const m = memory(1000, 2);
    m.record('c', 't1', 'Turn on the kitchen lights', 'Done. The kitchen lights are on.');
    m.record('c', 't2', 'And the heating?', 'Set to 21 degrees.');
    m.record('c', 't3', 'Thanks', 'You are welcome.');
    await m.compact('c', never);
    const h = m.history('c');
    assert.deepEqual(
      h.turns.map((t) => t.user),
      ['And the heating?', 'Thanks'],
    );
    assert.equal(h.summary, 'User asked: Turn on the kitchen lights You answered: Done.');
    assert.equal(m.messages('c', 'System.', 'x')[0].content, 'System.\n\nEarlier in this conversation:\nUser asked: Turn on the kitchen lights You answered: Done.');
    assert.equal(m.messages('c', '', 'x')[0].content, 'Earlier in this conversation:\nUser asked: Turn on the kitchen lights You answered: Done.');
  });

  it('keeps the summary within half the budget, dropping its oldest lines', async () => {
    const m = memory(60, 1);
    for (let i = 1; i <= 12; i++) {
      m.record('long', `t${i}`, `question ${i}`, `answer ${i}.`);
      await m.compact('long', never);
    }
    const { summary } = m.history('long');
    assert.ok(estimateTokens(summary) <= 30, `${estimateTokens(summary)} tokens: ${summary}`);
    assert.match(summary, /question 11 You answered: answer 11\.$/);
    assert.doesNotMatch(summary, /question 1 /);
  });

  it('leaves the turns alone when the summary is aborted, and writes one summary at a time', async () => {
    let calls = 0;
    let release!: () => void;
    const slow: Summariser = (_p, turns, signal) =>
      new Promise((resolve, reject) => {
        calls++;
        release = () => resolve(`summary of ${turns.length}`);
        signal.addEventListener('abort', () => reject(new Error('aborted')));
      });
    const m = memory(1000, 1, slow);
    m.record('s', 't1', 'one', 'first');
    m.record('s', 't2', 'two', 'second');
    const abort = new AbortController();
    const first = m.compact('s', abort.signal);
    await m.compact('s', never); // already compacting: returns at once
    assert.equal(calls, 1);
    abort.abort();
    await assert.rejects(first);
    assert.equal(m.history('s').turns.length, 2);
    const second = m.compact('s', never);
    release();
    await second;
    assert.equal(m.history('s').summary, 'summary of 1');
    assert.deepEqual(
      m.history('s').turns.map((t) => t.user),
      ['two'],
    );
  });

  it('replaces an interrupted reply by what was spoken, and counts its tokens again', () => {
    const m = memory(12);
    m.record('d', 't1', 'Tell me about Paris', 'Paris is the capital of France. It has many museums and parks.');
    assert.equal(m.messages('d', '', 'x').length, 1, 'the whole reply does not fit the budget');
    assert.ok(m.keepSpoken('t1', 'Paris is the'));
    assert.equal(m.history('d').turns[0].assistant, 'Paris is the');
    assert.equal(m.messages('d', '', 'x').length, 3, 'what was heard fits');
    assert.ok(!m.keepSpoken('t-unknown', 'x'));
  });

  it('fits the history budget into the context, leaving room for the reply', () => {
    assert.equal(fitBudget(1500, 256, 512), 256);
    assert.equal(fitBudget(1500, 256, 4096), 1500);
    assert.equal(fitBudget(1500, 256, null), 1500);
    assert.equal(fitBudget(1500, 600, 512), 0);
  });
});

describe('llama-llm settings', () => {
  it('migrates a flow saved before versioning: defaults filled, typed numbers become numbers', () => {
    const old = { id: 'n1', type: 'llama-llm', z: 'f', name: '', url: 'http://127.0.0.1:8080', maxTokens: '128', lowLatency: 'true' } as unknown as LlamaLlmConfig;
    const c = migrate(old, MIGRATIONS);
    assert.equal(c.version, CONFIG_VERSION);
    assert.equal(c.maxTokens, 128);
    assert.equal(c.lowLatency, true);
    assert.equal(c.contextSize, DEFAULTS.contextSize);
    assert.equal(c.url, 'http://127.0.0.1:8080');
  });

  it('fills in what a flow at the current version leaves out (written by hand): the defaults, not a TypeError at the first message', () => {
    const handWritten = { id: 'n1', type: 'llama-llm', z: 'f', version: CONFIG_VERSION, modelPath: '/models/m.gguf', maxTokens: '40' } as unknown as LlamaLlmConfig;
    const c = migrate(handWritten, MIGRATIONS);
    assert.deepEqual([c.version, c.url, c.modelPath, c.maxTokens, c.systemPrompt], [CONFIG_VERSION, DEFAULTS.url, '/models/m.gguf', 40, DEFAULTS.systemPrompt]);
    assert.doesNotThrow(() => controllerSettings(c));
  });

  it('gives a flow saved at version 1 the stall timeout (5 s) and the spoken fallback; keeps an empty fallback and a saved timeout', () => {
    const v1 = { id: 'n1', type: 'llama-llm', z: 'f', name: '', version: 1, url: 'http://127.0.0.1:8080', maxTokens: 128 } as unknown as LlamaLlmConfig;
    const c = migrate(v1, MIGRATIONS);
    assert.deepEqual([c.version, c.stallTimeout, c.fallbackReply, c.maxTokens], [CONFIG_VERSION, 5, 'Sorry, I lost my train of thought.', 128]);
    assert.equal(stallTimeoutMs(c), 5000);
    const chosen = migrate({ ...v1, version: 2, stallTimeout: 0, fallbackReply: '' } as LlamaLlmConfig, MIGRATIONS);
    assert.deepEqual([chosen.stallTimeout, controllerSettings(chosen).fallbackReply, stallTimeoutMs(chosen)], [0, '', 0]);
    assert.equal(stallTimeoutMs({ stallTimeout: 'soon' as unknown as number }), 5000, 'not a number: the default, not "no limit"');
  });

  it('gives a flow saved at version 2 no tools, the 5 s tool timeout and no allow-list; keeps saved ones', () => {
    const { tools: _t, toolTimeout: _tt, allowedSpeakers: _a, ...before } = DEFAULTS;
    const v2 = { id: 'n2', type: 'llama-llm', z: 'f', name: '', ...before, version: 2 } as unknown as LlamaLlmConfig;
    const c = migrate(v2, MIGRATIONS);
    assert.deepEqual([c.version, c.tools, c.toolTimeout, c.allowedSpeakers], [3, '[]', 5, '']);
    const s = controllerSettings(c);
    assert.deepEqual([s.tools, s.toolTimeoutMs, s.allowedSpeakers], [[], 5000, []]);
    const tools = JSON.stringify([{ name: 'set_light', description: 'Switch a light', needsKnownSpeaker: true }]);
    const saved = controllerSettings(migrate({ ...v2, version: 3, tools, toolTimeout: 0, allowedSpeakers: ' alice, bob ,' } as LlamaLlmConfig, MIGRATIONS));
    assert.deepEqual(saved.tools, [{ name: 'set_light', description: 'Switch a light', parameters: { type: 'object', properties: {} }, needsKnownSpeaker: true }]);
    assert.deepEqual([saved.toolTimeoutMs, saved.allowedSpeakers], [0, ['alice', 'bob']]);
    assert.equal(toolTimeoutMs({ toolTimeout: 'soon' as unknown as number }), 5000, 'not a number: the default, not "wait forever"');
  });

  it('refuses a tools setting that is not JSON, not a list, or names a tool badly, as BAD_TOOLS', () => {
    for (const [tools, says] of [
      ['[{', /not valid JSON|Expected|Unexpected/],
      ['{"name":"x"}', /must be a list/],
      ['[{"name":"turn on"}]', /tools\[0\]\.name/],
      ['[{"name":"a"},{"name":"a"}]', /twice/],
      ['[{"name":"a","parameters":{"type":"string"}}]', /type "object"/],
    ] as const) {
      assert.throws(() => nodeTools(tools), (err: Error & { code?: string }) => err.code === 'BAD_TOOLS' && says.test(err.message), tools);
    }
  });

  it('moves the control and metrics wires of a node saved with four outputs past the new tool-calls output', () => {
    assert.deepEqual(migrateWires(2, [['tts'], ['reply'], ['asr'], ['stats']]), [['tts'], ['reply'], [], ['asr'], ['stats']]);
    assert.deepEqual(migrateWires(undefined, [[], [], [], []]), [[], [], [], [], []], 'a flow from before versions');
    assert.equal(migrateWires(3, [['tts'], ['reply'], ['calls'], ['asr'], ['stats']]), undefined, 'saved with five outputs');
    assert.equal(migrateWires(2, []), undefined, 'no wires at all (a node made by the admin API): nothing to move');
  });

  it('turns the saved settings into the controller settings, style included', () => {
    const c = migrate({ id: 'n', type: 'llama-llm', z: 'f', name: '', style: 'custom', customStyle: 'Talk like a pirate.' } as unknown as LlamaLlmConfig, MIGRATIONS);
    const s = controllerSettings(c);
    assert.equal(s.style, 'Talk like a pirate.');
    assert.deepEqual(s.chunker, { firstMaxChars: 60, maxChars: 200, firstClauseWords: 3 });
    assert.equal(s.sampling.lowLatency, true);
  });

  it('counts physical cores, not hyper-threads', () => {
    const ht = ['physical id\t: 0', 'core id\t: 0', '', 'physical id\t: 0', 'core id\t: 0', '', 'physical id\t: 0', 'core id\t: 1', '', 'physical id\t: 0', 'core id\t: 1'].join('\n');
    assert.equal(physicalCores(ht), 2);
    const twoSockets = ['physical id : 0', 'core id : 0', 'physical id : 1', 'core id : 0'].join('\n');
    assert.equal(physicalCores(twoSockets), 2);
    assert.ok(physicalCores('') >= 1);
  });

  it('defaults to one thread per physical core, leaving one CPU free', () => {
    assert.equal(defaultThreads(2, 2), 1, 'a 2-vCPU box: 1 thread decodes ~20x faster than 2');
    assert.equal(defaultThreads(1, 1), 1);
    assert.equal(defaultThreads(4, 4), 3, 'a Raspberry Pi 5');
    assert.equal(defaultThreads(8, 16), 8, 'hyper-threads are not counted');
  });
});
