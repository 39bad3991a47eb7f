import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EmbeddedEngine } from '../../../nodes/llama-llm/embedded-engine';
import { llmSummariser } from '../../../nodes/llama-llm/summarise';
import { SHARED_MODELS } from '../../support/paths';

describe('EmbeddedEngine (node-llama-cpp, tiny real GGUF)', function () {
  this.timeout(60_000);
  const engine = new EmbeddedEngine({ modelPath: join(SHARED_MODELS, 'llm', 'stories260K.gguf'), threads: 1, contextSize: 512 });
  const sampling = { maxTokens: 30, temperature: 0, topK: 40, topP: 0.95, lowLatency: true };
  before(() => engine.start());
  after(() => engine.close());

  it('continues the story greedily, the same text every time', async () => {
    const run = async () => {
      let text = '';
      await engine.generate({ messages: [{ role: 'user', content: 'Once upon a time' }], sampling, signal: new AbortController().signal, onText: (t) => (text += t) });
      return text;
    };
    const a = await run();
    assert.ok(a.trim().length > 10, a);
    assert.equal(await run(), a);
  });

  it('stops on abort and passes nothing on after it', async () => {
    const controller = new AbortController();
    let pieces = 0;
    let afterAbort = 0;
    const t = await engine.generate({
      messages: [{ role: 'user', content: 'Tell me a long story.' }],
      sampling: { ...sampling, maxTokens: 400 },
      signal: controller.signal,
      onText: () => {
        if (controller.signal.aborted) afterAbort++;
        if (++pieces === 3) controller.abort();
      },
    });
    assert.equal(afterAbort, 0);
    assert.ok(t.tokens < 100, `${t.tokens} tokens generated after an abort at the 3rd`);
  });

  it('summarises old turns with the model itself', async () => {
    const summary = await llmSummariser(engine)('', [{ user: 'Tell me about Lily.', assistant: 'Lily was a little girl who loved to play.' }]);
    assert.ok(summary.length > 0, 'the model wrote a summary');
  });

  it('counts tokens with the model tokenizer', () => {
    assert.ok(engine.countTokens('Once upon a time there was a girl.') > 3);
  });
});
