import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ChatMessage, GenerateMarks } from '../../../lib/llm/engine';
import { ServerEngine, type ServerOptions } from '../../../lib/llm/server-engine';
import { fixture, LlamaReplay, WatchedReplay } from '../../support/llama-replay';

const sampling = { maxTokens: 24, temperature: 0, topK: 40, topP: 0.95, lowLatency: true };
const messages: ChatMessage[] = [
  { role: 'system', content: 'You tell stories.' },
  { role: 'user', content: 'Once upon a time' },
];
const expectedCompletion = JSON.parse(fixture('completion.json')).content as string;
/** The chat reply written out from the recording by hand-rolled parsing, independent of the readers under test. */
const expectedChat = fixture('chat-completions-stream.sse')
  .split('\n\n')
  .filter((e) => e.startsWith('data: {'))
  .map((e) => (JSON.parse(e.slice(6)) as { choices: { delta: { content?: string | null } }[] }).choices[0].delta.content ?? '')
  .join('');

async function generate(engine: ServerEngine, signal = new AbortController().signal): Promise<{ text: string; marks: GenerateMarks }> {
  let text = '';
  const marks = await engine.generate({ messages, sampling, signal, onText: (t) => (text += t) });
  return { text, marks };
}

describe('ServerEngine against a replayed llama-server on 127.0.0.1', () => {
  let server: WatchedReplay;
  const engines: ServerEngine[] = [];
  const engine = (opts: Partial<ServerOptions> = {}) => {
    const e = new ServerEngine({ url: server.base, endpoint: 'completion', allowH2: false, rawBytes: false, ...opts });
    engines.push(e);
    return e;
  };

  beforeEach(async () => {
    server = await new WatchedReplay().start();
    server.route('/health', { body: fixture('health.json'), contentType: 'application/json' });
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
    await server.stop();
  });

  for (const rawBytes of [false, true]) {
    for (const chunkSize of [1, 7, 4096]) {
      it(`streams /completion to its final timings event (${rawBytes ? 'raw-byte path' : 'eventsource-parser'}, ${chunkSize}-byte pieces)`, async () => {
        server.route('/completion', { body: fixture('completion-stream.sse'), chunkSize });
        const { text, marks } = await generate(engine({ rawBytes }));
        assert.equal(text, expectedCompletion);
        assert.equal(marks.tokens, 24, 'timings.predicted_n of the last event');
        // The raw path hands the first token on before its SSE line has ended: no order between those two.
        assert.ok(marks.requestSent <= marks.firstByte! && marks.firstByte! <= marks.firstSseLine! && marks.firstByte! <= marks.firstToken!);
        assert.ok(Math.max(marks.firstToken!, marks.firstSseLine!) <= marks.end);
        const sent = JSON.parse(server.requests.at(-1)!.body);
        assert.equal(sent.stream, true);
        assert.equal(sent.n_predict, 24);
        assert.equal(sent.mirostat, 0, 'low latency pins mirostat off');
        assert.equal(sent.typical_p, 1);
        assert.equal(sent.cache_prompt, true);
        assert.match(sent.prompt, /^You tell stories\.\nUser: Once upon a time\nAssistant:$/);
      });
    }
  }

  it('leaves the server its own samplers when low latency is off', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse') });
    await engine().generate({ messages, sampling: { ...sampling, lowLatency: false }, signal: new AbortController().signal, onText: () => undefined });
    const sent = JSON.parse(server.requests.at(-1)!.body);
    assert.ok(!('mirostat' in sent) && !('typical_p' in sent), JSON.stringify(sent));
  });

  for (const rawBytes of [false, true]) {
    it(`streams /v1/chat/completions to its [DONE] line, 1-byte pieces (${rawBytes ? 'raw' : 'parsed'})`, async () => {
      server.route('/v1/chat/completions', { body: fixture('chat-completions-stream.sse'), chunkSize: 1 });
      const { text, marks } = await generate(engine({ endpoint: 'chat', rawBytes }));
      assert.equal(text, expectedChat);
      assert.equal(marks.tokens, 24);
      const sent = JSON.parse(server.requests.at(-1)!.body);
      assert.deepEqual(sent.messages, messages);
      assert.equal(sent.max_tokens, 24);
    });
  }

  it('reads a stream that ends at a stop word, with token probabilities', async () => {
    server.route('/completion', { body: fixture('completion-stream-stop-nprobs.sse'), chunkSize: 1 });
    const { text } = await generate(engine());
    const whole = JSON.parse(fixture('completion.json')).content as string;
    assert.ok(text.length > 0 && !text.includes('ball') && `Once upon a time${whole}`.includes(text.slice(0, 20)), text);
  });

  it('at start: checks /health, reads the context size from /props, warms up with one token of the system prompt', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse') });
    server.route('/props', { body: fixture('props.json'), contentType: 'application/json' });
    const info = await engine().start(messages);
    assert.deepEqual(info, { contextSize: 512 });
    assert.deepEqual(
      server.requests.map((r) => r.path),
      ['/health', '/props', '/completion'],
    );
    const warmUp = JSON.parse(server.requests[2].body);
    assert.equal(warmUp.n_predict, 1);
    assert.ok(warmUp.prompt.startsWith('You tell stories.'), 'the system prompt is cached by the server');
  });

  it('starts without /props on a server that has none', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse') });
    assert.deepEqual(await engine().start(messages), { contextSize: null });
  });

  // llama-server itself closes the connection after each streamed reply (server-faults.test.ts); a proxy in front may keep it.
  it('reuses the connection between turns where the server keeps it alive', async () => {
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
    await assert.rejects(generate(e), { code: 'UNREACHABLE', statusText: 'server down', message: /not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/ });
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
    await assert.rejects(engine().start(messages), { code: 'LOADING', statusText: 'model loading' });
    await assert.rejects(generate(engine()), { code: 'LOADING', message: /still loading/ });
  });

  it('fails clearly when the stream is cut in the middle of a token', async () => {
    const body = fixture('completion-stream.sse');
    const token = body.indexOf('"content":" named"');
    server.route('/completion', { body, cutAfter: token + '"content":" na'.length });
    let text = '';
    await assert.rejects(
      engine().generate({ messages, sampling, signal: new AbortController().signal, onText: (t) => (text += t) }),
      { code: 'STREAM_CUT', statusText: 'stream cut' },
    );
    assert.equal(text, ', there was a little girl', 'what arrived before the cut was passed on, the cut token was not');
  });

  it('waits for a slow first byte and measures it', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse'), delayMs: 300 });
    const { text, marks } = await generate(engine());
    assert.equal(text, expectedCompletion);
    assert.ok(marks.firstByte! - marks.requestSent >= 290, `first byte after ${marks.firstByte! - marks.requestSent} ms`);
  });

  it('refuses an invalid JSON line', async () => {
    server.route('/completion', { body: 'data: {"index":0,"content":"Hi","stop":false}\n\ndata: {"index":0,"content":\n\n' });
    await assert.rejects(generate(engine()), { code: 'BAD_STREAM', message: /invalid JSON/ });
  });

  it('passes on an error event in the stream', async () => {
    server.route('/completion', { body: 'data: {"error":{"code":500,"message":"context shift is disabled","type":"server_error"}}\n\n' });
    await assert.rejects(generate(engine()), { code: 'SERVER_ERROR', message: /context shift is disabled/ });
  });

  it('aborts mid-stream promptly: nothing passed on after it, the server sees the request dropped', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse'), chunkSize: 60, gapMs: 30 });
    const controller = new AbortController();
    let abortedAt = 0;
    let afterAbort = 0;
    const started = engine().generate({
      messages,
      sampling,
      signal: controller.signal,
      onText: () => {
        if (abortedAt) afterAbort++;
        else {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    await assert.rejects(started, { name: 'AbortError' });
    const stopped = performance.now() - abortedAt;
    assert.ok(stopped < 250, `generate settled ${stopped.toFixed(1)} ms after the abort`);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(afterAbort, 0);
    assert.equal(server.abandonedAt.length, 1);
    assert.ok(server.abandonedAt[0] - abortedAt < 250, `server saw the drop ${(server.abandonedAt[0] - abortedAt).toFixed(1)} ms after the abort`);
  });

  it('aborts promptly while the server is still evaluating the prompt', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse'), delayMs: 1000 });
    const controller = new AbortController();
    const started = generate(engine(), controller.signal);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    controller.abort();
    await assert.rejects(started, { name: 'AbortError' });
    assert.ok(performance.now() - t0 < 250);
  });

  it('refuses a URL that is not one', () => {
    assert.throws(() => new ServerEngine({ url: 'localhost 8080', endpoint: 'chat', allowH2: false, rawBytes: false }), { code: 'BAD_URL' });
    assert.throws(() => new ServerEngine({ url: 'ftp://127.0.0.1/', endpoint: 'chat', allowH2: false, rawBytes: false }), { code: 'BAD_URL' });
  });
});

describe('ServerEngine over HTTP/2 (TLS proxy in front of llama-server)', () => {
  let server: Http2SecureServer;
  let base = '';
  const versions: string[] = [];
  const engines: ServerEngine[] = [];
  const rejectUnauthorized = process.env.NODE_TLS_REJECT_UNAUTHORIZED;

  before(async () => {
    // The test certificate is self-signed; trust it for this suite only.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    const dir = join(__dirname, 'fixtures');
    server = createSecureServer({ key: readFileSync(join(dir, 'test-only-key.pem')), cert: readFileSync(join(dir, 'test-only-cert.pem')), allowHTTP1: true });
    server.on('request', (req, res) => {
      versions.push(req.httpVersion);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(fixture('completion-stream.sse'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await new Promise((resolve) => server.close(resolve));
    if (rejectUnauthorized === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = rejectUnauthorized;
  });

  for (const allowH2 of [true, false]) {
    it(`speaks HTTP/${allowH2 ? '2' : '1.1'} with allowH2 ${allowH2} and streams the same reply`, async () => {
      const e = new ServerEngine({ url: base, endpoint: 'completion', allowH2, rawBytes: false });
      engines.push(e);
      const { text } = await generate(e);
      assert.equal(text, expectedCompletion);
      assert.equal(versions.at(-1), allowH2 ? '2.0' : '1.1');
    });
  }
});
