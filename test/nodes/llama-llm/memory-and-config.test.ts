import assert from 'node:assert/strict';
import { migrate } from '../../../lib/nodered/migrate';
import { DEFAULTS, MIGRATIONS, type LlamaLlmConfig } from '../../../nodes/llama-llm/config';
import { physicalCores } from '../../../nodes/llama-llm/cpu-cores';
import { estimateTokens } from '../../../nodes/llama-llm/engine';
import { ConversationMemory } from '../../../nodes/llama-llm/memory';

describe('ConversationMemory', () => {
  const memory = (budget: number, after = 100) => new ConversationMemory({ tokenBudget: budget, summariseAfter: after }, estimateTokens);

  it('keeps the newest turns that fit the token budget, oldest dropped first', async () => {
    const m = memory(25); // ~9 tokens per turn, 5 for system + user: room for two turns
    for (let i = 1; i <= 5; i++) await m.record('kitchen', `t${i}`, `question number ${i}`, `answer number ${i}.`);
    const msgs = m.messages('kitchen', 'Be brief.', 'next?');
    assert.equal(msgs[0].content, 'Be brief.');
    assert.equal(msgs.at(-1)!.content, 'next?');
    const kept = msgs.filter((x) => x.role === 'user').map((x) => x.content);
    assert.deepEqual(kept, ['question number 4', 'question number 5', 'next?']);
  });

  it('keeps conversations apart and clears one', async () => {
    const m = memory(1000);
    await m.record('a', 't1', 'hi from a', 'hello a');
    await m.record('b', 't2', 'hi from b', 'hello b');
    m.clear('a');
    assert.equal(m.messages('a', '', 'x').length, 1);
    assert.equal(m.messages('b', '', 'x').length, 3);
  });

  it('folds old turns into a summary after N turns', async () => {
    const m = memory(1000, 2);
    await m.record('c', 't1', 'Turn on the kitchen lights', 'Done. The kitchen lights are on.');
    await m.record('c', 't2', 'And the heating?', 'Set to 21 degrees.');
    await m.record('c', 't3', 'Thanks', 'You are welcome.');
    const h = m.history('c');
    assert.equal(h.turns.length, 2);
    assert.match(h.summary, /User asked: Turn on the kitchen lights You answered: Done\./);
    assert.match(m.messages('c', 'System.', 'x')[0].content, /Earlier in this conversation:\nUser asked: Turn on the kitchen lights/);
  });

  it('replaces an interrupted reply by what was spoken', async () => {
    const m = memory(1000);
    await m.record('d', 't1', 'Tell me about Paris', 'Paris is the capital of France. It has');
    assert.ok(m.keepSpoken('t1', 'Paris is the'));
    assert.equal(m.history('d').turns[0].assistant, 'Paris is the');
    assert.ok(!m.keepSpoken('t-unknown', 'x'));
  });
});

describe('llama-llm settings', () => {
  it('migrates a flow saved before versioning: defaults filled, typed numbers become numbers', () => {
    const old = { id: 'n1', type: 'llama-llm', z: 'f', name: '', url: 'http://127.0.0.1:8080', maxTokens: '128', lowLatency: 'true' } as unknown as LlamaLlmConfig;
    const c = migrate(old, MIGRATIONS);
    assert.equal(c.version, 1);
    assert.equal(c.maxTokens, 128);
    assert.equal(c.lowLatency, true);
    assert.equal(c.contextSize, DEFAULTS.contextSize);
    assert.equal(c.url, 'http://127.0.0.1:8080');
  });

  it('counts physical cores, not hyper-threads', () => {
    const ht = ['physical id\t: 0', 'core id\t: 0', '', 'physical id\t: 0', 'core id\t: 0', '', 'physical id\t: 0', 'core id\t: 1', '', 'physical id\t: 0', 'core id\t: 1'].join('\n');
    assert.equal(physicalCores(ht), 2);
    const twoSockets = ['physical id : 0', 'core id : 0', 'physical id : 1', 'core id : 0'].join('\n');
    assert.equal(physicalCores(twoSockets), 2);
    assert.ok(physicalCores('') >= 1);
  });
});
