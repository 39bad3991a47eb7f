import assert from 'node:assert/strict';
import type { ChatMessage, GenerateTimings } from '../../../nodes/llama-llm/engine';
import { ServerEngine, type ServerOptions } from '../../../nodes/llama-llm/server-engine';
import { fixture, LlamaReplay } from '../../support/llama-replay';

const sampling = { maxTokens: 24, temperature: 0, topK: 40, topP: 0.95, lowLatency: true };
const messages: ChatMessage[] = [
  { role: 'system', content: 'You tell stories.' },
  { role: 'user', content: 'Once upon a time' },
];
const expectedCompletion = JSON.parse(fixture('completion.json')).content as string;

async function generate(engine: ServerEngine, signal = new AbortController().signal): Promise<{ text: string; timings: GenerateTimings }> {
  let text = '';
  const timings = await engine.generate({ messages, sampling, signal, onText: (t) => (text += t) });
  return { text, timings };
}

describe('ServerEngine against a replayed llama-server on 127.0.0.1', () => {
  let server: LlamaReplay;
  const engines: ServerEngine[] = [];
  const engine = (opts: Partial<ServerOptions> = {}) => {
    const e = new ServerEngine({ url: server.base, endpoint: 'completion', allowH2: false, rawBytes: false, ...opts });
    engines.push(e);
    return e;
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
    for (const chunkSize of [1, 7, 4096]) {
      it(`streams /completion (${rawBytes ? 'raw-byte path' : 'eventsource-parser'}, ${chunkSize}-byte pieces)`, async () => {
        server.route('/completion', { body: fixture('completion-stream.sse'), chunkSize });
        const { text, timings } = await generate(engine({ rawBytes }));
        assert.equal(text, expectedCompletion);
        assert.equal(timings.tokens, 24);
        assert.ok(timings.firstTokenMs! >= timings.serverFirstByteMs! && timings.totalMs >= timings.firstTokenMs!);
        const sent = JSON.parse(server.requests.at(-1)!.body);
        assert.equal(sent.stream, true);
        assert.equal(sent.mirostat, 0, 'low latency pins mirostat off');
        assert.equal(sent.typical_p, 1);
        assert.match(sent.prompt, /You tell stories\.\nUser: Once upon a time\nAssistant:$/);
      });
    }
  }

  it('streams /v1/chat/completions to its [DONE] line', async () => {
    server.route('/v1/chat/completions', { body: fixture('chat-completions-stream.sse'), chunkSize: 13 });
    const { text, timings } = await generate(engine({ endpoint: 'chat' }));
    assert.ok(text.length > 10 && text.startsWith('"H'), text);
    assert.ok(timings.firstSseLineAfterSendMs !== null);
    const sent = JSON.parse(server.requests.at(-1)!.body);
    assert.deepEqual(sent.messages, messages);
    assert.equal(sent.max_tokens, 24);
  });

  it('reads a stream that ends at a stop word, with token probabilities', async () => {
    server.route('/completion', { body: fixture('completion-stream-stop-nprobs.sse'), chunkSize: 100 });
    const { text } = await generate(engine());
    assert.ok(text.length > 0 && !text.includes('ball'), text);
  });

  it('checks /health and warms up with a one-token request at start', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse') });
    await engine().start();
    assert.deepEqual(
      server.requests.map((r) => r.path),
      ['/health', '/completion'],
    );
    assert.equal(JSON.parse(server.requests[1].body).n_predict, 1);
  });

  it('keeps the connection alive between turns', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse') });
    const e = engine();
    await generate(e);
    await new Promise((r) => setTimeout(r, 10)); // turns are seconds apart in real use
    await generate(e);
    const [a, b] = server.requests.slice(-2);
    assert.equal(a.socketId, b.socketId);
  });

  it('says the server is down when nothing listens', async () => {
    const closed = await new LlamaReplay().start();
    const url = closed.base;
    await closed.stop();
    const e = new ServerEngine({ url, endpoint: 'completion', allowH2: false, rawBytes: false });
    engines.push(e);
    await assert.rejects(generate(e), { code: 'UNREACHABLE', message: /not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/ });
  });

  it('passes on the error of a 500 and a 400', async () => {
    server.route('/completion', { status: 500, body: fixture('error-invalid-json.txt').split('\n')[0], contentType: 'application/json' });
    await assert.rejects(generate(engine()), { code: 'HTTP_STATUS', message: /answered 500: \[json\.exception\.parse_error\.101\]/ });
    server.route('/completion', { status: 400, body: fixture('error-missing-prompt.txt').split('\n')[0], contentType: 'application/json' });
    await assert.rejects(generate(engine()), { message: /answered 400: .*key 'prompt' not found/ });
  });

  it('reports a 503 while the model loads, on /health and on a request', async () => {
    const loading = { status: 503, body: '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}', contentType: 'application/json' };
    server.route('/health', loading).route('/completion', loading);
    await assert.rejects(engine().health(), { code: 'LOADING' });
    await assert.rejects(generate(engine()), { code: 'LOADING', message: /still loading/ });
  });

  it('fails clearly when the stream is cut mid-token', async () => {
    const body = fixture('completion-stream.sse');
    server.route('/completion', { body, cutAfter: Math.floor(body.length / 3) + 5 });
    let text = '';
    await assert.rejects(
      engine().generate({ messages, sampling, signal: new AbortController().signal, onText: (t) => (text += t) }),
      { code: 'STREAM_CUT' },
    );
    assert.ok(expectedCompletion.startsWith(text), 'what arrived before the cut was passed on');
  });

  it('waits for a slow first byte and measures it', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse'), delayMs: 300 });
    const { text, timings } = await generate(engine());
    assert.equal(text, expectedCompletion);
    assert.ok(timings.serverFirstByteMs! >= 290, `first byte at ${timings.serverFirstByteMs} ms`);
  });

  it('refuses an invalid JSON line', async () => {
    server.route('/completion', { body: 'data: {"index":0,"content":"Hi","stop":false}\n\ndata: {"index":0,"content":\n\n' });
    await assert.rejects(generate(engine()), { code: 'BAD_STREAM', message: /invalid JSON/ });
  });

  it('aborts within milliseconds and passes nothing on after the abort', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse'), chunkSize: 60, gapMs: 30 });
    const controller = new AbortController();
    let afterAbort = 0;
    let aborted = false;
    const started = engine().generate({
      messages,
      sampling,
      signal: controller.signal,
      onText: () => {
        if (aborted) afterAbort++;
        else {
          aborted = true;
          controller.abort();
        }
      },
    });
    const t0 = performance.now();
    await assert.rejects(started, { name: 'AbortError' });
    assert.ok(performance.now() - t0 < 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(afterAbort, 0);
  });

  it('refuses a URL that is not one', () => {
    assert.throws(() => new ServerEngine({ url: 'localhost 8080', endpoint: 'chat', allowH2: false, rawBytes: false }), { code: 'BAD_URL' });
  });
});
