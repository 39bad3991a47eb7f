import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedEngine } from '../../../lib/llm/embedded-engine';
import type { ChatMessage } from '../../../lib/llm/engine';
import { llmSummariser } from '../../../lib/llm/summarise';
import { SHARED_MODELS } from '../../support/paths';

const TINY_GGUF = join(SHARED_MODELS, 'llm', 'stories260K.gguf');

describe('EmbeddedEngine (node-llama-cpp, tiny real GGUF, 1 thread)', function () {
  this.timeout(30_000);
  const engine = new EmbeddedEngine({ modelPath: TINY_GGUF, threads: 1, contextSize: 512 });
  // Every generation is bounded: the tiny model never emits </s>.
  const sampling = { maxTokens: 30, temperature: 0, topK: 40, topP: 0.95, lowLatency: true };
  const story = async (messages: ChatMessage[], signal = new AbortController().signal) => {
    let text = '';
    const marks = await engine.generate({ messages, sampling, signal, onText: (t) => (text += t) });
    return { text, marks };
  };
  let contextSize: number | null = null;
  before(async () => ({ contextSize } = await engine.start([{ role: 'user', content: 'Hello' }])));
  after(() => engine.close());

  it('loads the model, warms up, and reports its context size', () => {
    assert.equal(contextSize, 512);
  });

  it('continues the story greedily, the same text every time, within max tokens', async () => {
    const a = await story([{ role: 'user', content: 'Once upon a time' }]);
    assert.ok(a.text.trim().length > 10, a.text);
    assert.ok(a.marks.tokens > 0 && a.marks.tokens <= 30, `${a.marks.tokens} tokens`);
    assert.equal(a.marks.firstByte, null, 'no network step in-process');
    assert.equal(a.marks.firstSseLine, null);
    assert.ok(a.marks.requestSent <= a.marks.firstToken! && a.marks.firstToken! <= a.marks.end);
    assert.equal((await story([{ role: 'user', content: 'Once upon a time' }])).text, a.text);
  });

  it('flags a reply cut at max tokens as truncated (node-llama-cpp\'s stopReason), an aborted one not', async () => {
    // The tiny model never emits </s>: every reply runs to max tokens.
    assert.equal((await story([{ role: 'user', content: 'Once upon a time' }])).marks.truncated, true);
    const controller = new AbortController();
    const marks = await engine.generate({ messages: [{ role: 'user', content: 'Once upon a time' }], sampling, signal: controller.signal, onText: () => controller.abort() });
    assert.equal(marks.truncated, false);
  });

  it('takes the system prompt and history into account', async () => {
    const plain = await story([{ role: 'user', content: 'Once upon a time' }]);
    const withHistory = await story([
      { role: 'system', content: 'Tell stories about a dog named Max.' },
      { role: 'user', content: 'Who is Max?' },
      { role: 'assistant', content: 'Max was a big brown dog who liked to run.' },
      { role: 'user', content: 'Once upon a time' },
    ]);
    assert.notEqual(withHistory.text, plain.text);
  });

  it('stops promptly on an abort (speed: bench/llm.ts) and passes nothing on after it', async () => {
    const controller = new AbortController();
    let pieces = 0;
    let afterAbort = 0;
    let abortedAt = 0;
    const marks = await engine.generate({
      messages: [{ role: 'user', content: 'Tell me a long story.' }],
      sampling: { ...sampling, maxTokens: 400 },
      signal: controller.signal,
      onText: () => {
        if (controller.signal.aborted) afterAbort++;
        if (++pieces === 3) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    const stopped = performance.now() - abortedAt;
    assert.equal(afterAbort, 0);
    assert.ok(stopped < 250, `generation returned ${stopped.toFixed(1)} ms after the abort`);
    assert.ok(marks.tokens < 20, `${marks.tokens} tokens generated after an abort at the 3rd piece`);
  });

  it('runs generations one at a time: a second caller never gets the history of the first', async () => {
    const a: ChatMessage[] = [{ role: 'user', content: 'Once upon a time' }];
    const b: ChatMessage[] = [
      { role: 'system', content: 'Tell stories about a dog named Max.' },
      { role: 'user', content: 'A dog ran.' },
    ];
    const [aloneA, aloneB] = [await story(a), await story(b)];
    const [togetherA, togetherB] = await Promise.all([story(a), story(b)]);
    assert.equal(togetherA.text, aloneA.text);
    assert.equal(togetherB.text, aloneB.text);
  });

  it('summarises old turns with the model itself', async () => {
    const summary = await llmSummariser(engine)('', [{ user: 'Tell me about Lily.', assistant: 'Lily was a little girl who loved to play.' }], new AbortController().signal);
    assert.ok(summary.length > 0, 'the model wrote a summary');
  });

  it('counts tokens with the model tokenizer', () => {
    // The tiny model's 512-token vocabulary is close to character level.
    assert.ok(engine.countTokens('Once upon a time there was a girl.') > 9);
  });
});

describe('EmbeddedEngine with two lanes (rooms answered side by side, node-llama-cpp batching)', function () {
  this.timeout(30_000);
  const engine = new EmbeddedEngine({ modelPath: TINY_GGUF, threads: 1, contextSize: 512, lanes: 2 });
  const sampling = { maxTokens: 30, temperature: 0, topK: 40, topP: 0.95, lowLatency: true };
  /** A story for a conversation, with when its first and last text came. */
  const story = async (lane: string, content: string) => {
    let text = '';
    let first = 0;
    await engine.generate({ messages: [{ role: 'user', content }], sampling, signal: new AbortController().signal, lane, onText: (t) => ((first ||= performance.now()), (text += t)) });
    return { text, first, end: performance.now() };
  };
  before(() => engine.start([{ role: 'user', content: 'Hello' }]));
  after(() => engine.close());

  it('two conversations generate at once, each its own text as if alone; a third waits for a free lane', async () => {
    const [aloneK, aloneL] = [await story('kitchen', 'Once upon a time'), await story('lounge', 'A dog ran.')];
    const [k, l, h] = await Promise.all([story('kitchen', 'Once upon a time'), story('lounge', 'A dog ran.'), story('hall', 'The sun')]);
    assert.equal(engine.lanes, 2);
    assert.ok(k.first < l.end && l.first < k.end, 'the two answers overlap in time');
    assert.ok(h.first >= Math.min(k.end, l.end), 'the third began once a lane was free');
    assert.equal(k.text, aloneK.text);
    assert.equal(l.text, aloneL.text);
  });
});

describe('EmbeddedEngine refusals and lifecycle', function () {
  this.timeout(30_000);
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'llama-llm-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names a truncated GGUF, frees what it loaded, and fails the same way on a retry', async () => {
    const truncated = join(dir, 'truncated.gguf');
    writeFileSync(truncated, readFileSync(TINY_GGUF).subarray(0, 100_000));
    const engine = new EmbeddedEngine({ modelPath: truncated, threads: 1, contextSize: 512 });
    for (let attempt = 0; attempt < 2; attempt++) {
      await assert.rejects(engine.start([{ role: 'user', content: 'Hi' }]), { code: 'MODEL_BAD', statusText: 'bad model file', message: /could not load .*truncated\.gguf/ });
    }
    await engine.close();
  });

  it('closing while the model loads leaves nothing loaded behind', async () => {
    const engine = new EmbeddedEngine({ modelPath: TINY_GGUF, threads: 1, contextSize: 512 });
    const starting = engine.start([{ role: 'user', content: 'Hi' }]);
    await engine.close();
    await assert.rejects(starting, { code: 'CLOSED' });
    assert.throws(() => engine.countTokens('x'), { code: 'NOT_READY' });
  });


  it('names a missing model file, and no model at all', async () => {
    await assert.rejects(new EmbeddedEngine({ modelPath: '/nowhere/model.gguf', threads: 1, contextSize: 512 }).start([]), {
      code: 'MODEL_MISSING',
      message: /model file not found: \/nowhere\/model\.gguf/,
    });
    await assert.rejects(new EmbeddedEngine({ modelPath: '', threads: 1, contextSize: 512 }).start([]), { code: 'NO_MODEL', statusText: 'no model: see debug', message: /run "npx realtime-voice models pull llm-qwen2.5-0.5b-instruct-q4", then deploy/ });
  });
});
