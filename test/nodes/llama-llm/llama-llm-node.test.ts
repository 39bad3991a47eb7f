import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { makeControl } from '../../../lib/messages/control';
import llamaLlm from '../../../nodes/llama-llm/llama-llm';
import { fixture, WatchedReplay } from '../../support/llama-replay';
import { collect, lastStatus, nextMessage } from '../../support/node-red';
import { SHARED_MODELS } from '../../support/paths';
import { until } from '../../support/wait';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown> & { payload?: unknown; control?: { type: string } };
type Caught = { error: { message: string; source: { id: string } } };
const TINY_GGUF = join(SHARED_MODELS, 'llm', 'stories260K.gguf');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function flow(llm: Record<string, unknown>) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'llm', z: 'f1', type: 'llama-llm', name: 'assistant', ...llm, wires: [['chunks'], ['reply'], ['control'], ['metrics']] },
    { id: 'chunks', z: 'f1', type: 'helper' },
    { id: 'metrics', z: 'f1', type: 'helper' },
    { id: 'reply', z: 'f1', type: 'helper' },
    { id: 'control', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

type Spy = { args: unknown[][]; lastCall: { args: unknown[] } };
const spy = (id: string, method: 'status' | 'warn' | 'send') => (helper.getNode(id) as unknown as Record<string, Spy>)[method];
const statusTexts = (id: string) => spy(id, 'status').args.map((a) => (a[0] as { text?: string }).text);

/** A TCP port that forwards to the replay server while `up`, and refuses connections while down. */
class Forwarder {
  private server: Server | undefined;
  port = 0;
  constructor(private readonly target: () => number) {}
  async up(): Promise<void> {
    const server = (this.server = createServer((client) => {
      const upstream = connect(this.target(), '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    }));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }
  async down(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('llama-llm node with a replayed llama-server', function () {
  this.timeout(10_000);
  let server: WatchedReplay;
  const completion = JSON.parse(fixture('completion.json')).content as string;

  beforeEach(async () => {
    server = await new WatchedReplay().start();
    server.route('/health', { body: fixture('health.json'), contentType: 'application/json' });
    server.route('/props', { body: fixture('props.json'), contentType: 'application/json' });
    server.route('/completion', { body: fixture('completion-stream.sse'), chunkSize: 100 });
  });
  afterEach(async () => {
    await helper.unload();
    await server.stop();
  });

  const load = (extra: Record<string, unknown> = {}) =>
    helper.load(llamaLlm, flow({ url: server.base, endpoint: 'completion', style: 'none', systemPrompt: 'Tell a story.', tokenBudget: 200, maxTokens: 64, ...extra }));

  it('answers a text turn: sentence chunks, metrics, the full reply, pause/resume and its status', async () => {
    await load();
    const chunks = collect<Msg>('chunks');
    const controls = collect<Msg>('control');
    const metrics = nextMessage<Msg & { payload: Record<string, unknown> }>('metrics');
    const reply = nextMessage<Msg>('reply');
    // A user's own properties (here a dashboard's session id) come back on the reply, not on every chunk.
    helper.getNode('llm').receive({ payload: 'Once upon a time', turnId: 't-1', conversationId: 'kids', session: { id: 42 } } as never);
    const r = await reply;
    assert.deepEqual([r.topic, r.payload, r.turnId, r.conversationId, r.interrupted, r.session], ['llm-reply', completion.trim(), 't-1', 'kids', false, { id: 42 }]);
    assert.ok(chunks.every((c) => !('session' in c)), 'chunks carry the turn fields only');
    assert.deepEqual(
      chunks.map((c) => [c.topic, c.payload, c.complete, c.index, c.turnId]),
      [
        ['llm-chunk', ', there was a little girl named Lily.', false, 0, 't-1'],
        ['llm-chunk', 'She loved to play outside in the p', true, 1, 't-1'],
      ],
    );
    assert.deepEqual(chunks[1].parts, { id: 't-1', index: 1, type: 'string', ch: '', count: 2 });
    assert.deepEqual(
      controls.map((c) => [c.control!.type, c.turnId]),
      [
        ['pause', 't-1'],
        ['resume', 't-1'],
      ],
    );
    const m = await metrics;
    assert.equal(m.turnId, 't-1');
    assert.equal(m.payload.engine, 'server');
    assert.equal(m.payload.interrupted, false);
    assert.equal((m.payload.generation as { tokens: number }).tokens, 24);
    for (const key of ['build_prompt_ms', 'pre_request_gap_ms', 'server_first_byte_ms', 'first_sse_line_after_send_ms', 'first_token_latency_total_ms', 'end_to_end_ms']) {
      assert.equal(typeof m.payload[key], 'number', key);
    }
    const texts = statusTexts('llm');
    assert.ok(texts.indexOf('thinking…') < texts.indexOf('speaking…'), texts.join(' | '));
    // The recorded reply stops at its n_predict (24 tokens): flagged, not a normal finish.
    assert.equal(r.truncated, true);
    assert.equal(m.payload.truncated, true);
    assert.deepEqual(lastStatus('llm'), { fill: 'green', shape: 'dot', text: 'reply cut off' });
    assert.ok(texts.every((t) => t === undefined || t.length < 20));
  });

  it('warns and lowers the history budget when the server context cannot hold it and the reply', async () => {
    await load({ tokenBudget: 1500, maxTokens: 256 });
    const reply = nextMessage('reply');
    helper.getNode('llm').receive({ payload: 'Once upon a time' } as never);
    await reply;
    assert.match(String(spy('llm', 'warn').args.flat()), /history budget lowered to 256 tokens: the model's context \(512\)/);
  });

  it('stops promptly on interrupt: nothing more of that turn leaves, and only what was spoken is remembered', async () => {
    let requests = 0;
    // The deploy's warm-up at full speed, the turns as slowly as a real model speaks.
    server.route('/completion', () => ({ body: fixture('completion-stream.sse'), ...(requests++ ? { chunkSize: 30, gapMs: 3 } : {}) }));
    await load();
    const chunks = collect<Msg>('chunks');
    const replies = collect<Msg>('reply');
    const metrics = collect<Msg>('metrics');
    const llm = helper.getNode('llm');
    llm.receive({ payload: 'Once upon a time', turnId: 't-1' } as never);
    while (!chunks.length) await sleep(1);
    const bargeIn = performance.now();
    llm.receive(makeControl('speech-start', 't-2', { source: 'asr' }) as never);
    await sleep(300);
    assert.equal(server.abandonedAt.length, 1, 'the request was dropped');
    assert.ok(server.abandonedAt[0] - bargeIn < 250, `the server saw the drop ${(server.abandonedAt[0] - bargeIn).toFixed(1)} ms after the barge-in`);
    assert.equal(chunks.length, 1, 'only the chunk sent before the barge-in');
    assert.equal(replies.length + metrics.length, 0);
    assert.equal(lastStatus('llm').text, 'interrupted');
    // speaker-out says the user heard half of the first sentence.
    llm.receive(makeControl('tts-end', 't-1', { cut: true, playedMs: 900, spokenText: ', there was a little' }) as never);
    // A transcript of the interrupted turn arriving late is dropped.
    llm.receive({ payload: 'late words', turnId: 't-1' } as never);
    const reply = nextMessage<Msg>('reply');
    llm.receive({ payload: 'And then?', turnId: 't-2' } as never);
    assert.equal((await reply).turnId, 't-2');
    const prompts = server.requests.filter((r) => r.path === '/completion').map((r) => JSON.parse(r.body).prompt as string);
    assert.equal(prompts.length, 3, 'warm-up, t-1, t-2: the late t-1 transcript was not sent');
    assert.ok(prompts[2].endsWith('Assistant: , there was a little\nUser: And then?\nAssistant:'), prompts[2]);
    assert.ok(!prompts[2].includes('named Lily'));
  });

  for (const reset of [{ reset: true }, { topic: 'reset' }, { topic: 'clear' }]) {
    it(`empties the history of that conversation on ${JSON.stringify(reset)}`, async () => {
      await load();
      const llm = helper.getNode('llm');
      const ask = async (payload: string, conversationId: string) => {
        const reply = nextMessage('reply');
        llm.receive({ payload, conversationId } as never);
        await reply;
        return JSON.parse(server.requests.at(-1)!.body).prompt as string;
      };
      await ask('Kitchen question', 'kitchen');
      await ask('Garden question', 'garden');
      assert.match(await ask('Again', 'kitchen'), /Kitchen question/);
      llm.receive({ ...reset, conversationId: 'kitchen' } as never);
      await sleep(10);
      assert.equal(lastStatus('llm').text, 'history cleared');
      assert.doesNotMatch(await ask('Second question', 'kitchen'), /Kitchen question/);
      assert.match(await ask('Garden again', 'garden'), /Garden question/, 'other conversations keep theirs');
    });
  }

  it('routes bad input to a Catch node, turns red, and keeps working', async () => {
    await load();
    const llm = helper.getNode('llm');
    let caught = nextMessage<Caught>('caught');
    llm.receive({ payload: 42 } as never);
    const first = await caught;
    assert.match(first.error.message, /msg\.payload must be text, got number/);
    assert.equal(first.error.source.id, 'llm');
    assert.deepEqual(lastStatus('llm'), { fill: 'red', shape: 'ring', text: 'bad input' });
    caught = nextMessage('caught');
    llm.receive({ payload: '   ' } as never);
    assert.match((await caught).error.message, /empty/);
    caught = nextMessage('caught');
    llm.receive({ control: { v: 1, type: 'explode', turnId: 'x', ts: 1 } } as never);
    assert.match((await caught).error.message, /unknown control type "explode"/);
    const reply = nextMessage<Msg>('reply');
    llm.receive({ payload: 'Once upon a time' } as never);
    assert.equal((await reply).payload, completion.trim());
    assert.equal(lastStatus('llm').fill, 'green');
  });

  it('reports a server that is down, at deploy and on every message, and answers once it is back', async () => {
    const door = new Forwarder(() => Number(new URL(server.base).port));
    await door.up(); // to learn a free port
    await door.down();
    await helper.load(llamaLlm, flow({ url: `http://127.0.0.1:${door.port}`, endpoint: 'completion' }));
    await sleep(50);
    assert.equal(lastStatus('llm').text, 'server down');
    for (let i = 0; i < 2; i++) {
      const caught = nextMessage<Caught>('caught');
      helper.getNode('llm').receive({ payload: 'Hello' } as never);
      assert.match((await caught).error.message, /not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
      assert.deepEqual(lastStatus('llm'), { fill: 'red', shape: 'ring', text: 'server down' });
    }
    await door.up();
    try {
      const reply = nextMessage<Msg>('reply');
      helper.getNode('llm').receive({ payload: 'Hello' } as never);
      assert.equal((await reply).payload, completion.trim());
    } finally {
      await helper.unload(); // the pooled connection goes before the door closes
      await door.down();
    }
  });

  it('a server that holds the stream open silently: after the default 5 s stall timeout, Catch gets LLM_STALLED with the message, the status says so, the fallback is spoken', async function () {
    this.timeout(15_000);
    const body = fixture('completion-stream.sse');
    await load(); // saved without a stall timeout or fallback: the defaults
    await until(() => lastStatus('llm').text === 'ready', 2000, 'the warm-up');
    server.route('/completion', { body, holdAfter: body.indexOf('\n\n') + 2 });
    const chunks = collect<Msg>('chunks');
    const caught = nextMessage<Caught & { turnId?: string }>('caught');
    const t0 = performance.now();
    helper.getNode('llm').receive({ payload: 'Once upon a time', turnId: 't-stall' } as never);
    const c = await caught;
    const ms = performance.now() - t0;
    assert.ok(ms >= 5000 && ms < 6500, `ended after ${ms.toFixed(0)} ms`);
    assert.match(c.error.message, /sent nothing for 5 s in the middle of the reply/);
    assert.equal((c.error as { code?: string }).code, 'LLM_STALLED');
    assert.equal(c.turnId, 't-stall', 'the error carries the message of the turn');
    assert.deepEqual(lastStatus('llm'), { fill: 'red', shape: 'ring', text: 'server stalled' });
    await until(() => chunks.length > 0, 1000, 'the fallback chunk');
    assert.deepEqual(chunks.map((m) => [m.payload, m.complete, m.fallback, m.turnId]), [['Sorry, I lost my train of thought.', true, true, 't-stall']]);
  });

  it('tells every message about settings that cannot work', async () => {
    await helper.load(llamaLlm, flow({ url: 'http://' }));
    assert.equal(lastStatus('llm').text, 'bad server URL');
    const caught = nextMessage<Caught>('caught');
    helper.getNode('llm').receive({ payload: 'Hello' } as never);
    assert.match((await caught).error.message, /invalid llama-server URL/);
  });
});

describe('llama-llm node with the embedded engine (tiny real GGUF)', function () {
  this.timeout(30_000);
  afterEach(() => helper.unload());
  const load = (extra: Record<string, unknown> = {}) =>
    helper.load(llamaLlm, flow({ modelPath: TINY_GGUF, threads: 1, contextSize: 512, tokenBudget: 200, maxTokens: 40, temperature: 0, style: 'none', systemPrompt: '', ...extra }));

  it('loads the GGUF in-process and streams a bounded reply', async () => {
    await load();
    const chunks = collect<Msg>('chunks');
    const metrics = nextMessage<{ payload: { engine: string; generation: { tokens: number }; server_first_byte_ms: unknown; first_sse_line_after_send_ms: unknown } }>('metrics');
    const reply = nextMessage<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Tell me a story.' } as never);
    const text = (await reply).payload as string;
    assert.ok(text.length > 10, text);
    assert.equal(chunks.at(-1)!.complete, true);
    assert.equal(
      chunks
        .map((c) => c.payload)
        .filter(Boolean)
        .join(' '),
      text.replace(/\s+/g, ' ').trim(),
    );
    const m = (await metrics).payload;
    assert.equal(m.engine, 'embedded');
    assert.equal(m.server_first_byte_ms, null);
    assert.equal(m.first_sse_line_after_send_ms, null);
    assert.ok(m.generation.tokens > 0 && m.generation.tokens <= 40, JSON.stringify(m));
  });

  it('stops on interrupt: nothing more of that turn leaves', async () => {
    await load({ maxTokens: 400, firstChunkChars: 10, maxChunkChars: 20 });
    const chunks = collect<Msg>('chunks');
    const replies = collect<Msg>('reply');
    const llm = helper.getNode('llm');
    llm.receive({ payload: 'Tell me a long story.', turnId: 't-1' } as never);
    while (!chunks.length) await sleep(0);
    const sends = spy('llm', 'send');
    const sentBefore = sends.args.length;
    llm.receive(makeControl('interrupt', 't-1', { reason: 'user' }) as never);
    await sleep(300);
    assert.equal(sends.args.length, sentBefore, 'nothing sent after the interrupt, on any output');
    assert.ok(chunks.length > 0 && chunks.every((c) => c.complete === false));
    assert.equal(replies.length, 0);
    assert.equal(lastStatus('llm').text, 'interrupted');
  });

  it('names a missing GGUF file in the error and the status', async () => {
    await load({ modelPath: '/nowhere/model.gguf' });
    const caught = nextMessage<Caught>('caught');
    helper.getNode('llm').receive({ payload: 'Hello' } as never);
    assert.match((await caught).error.message, /model file not found: \/nowhere\/model\.gguf/);
    assert.equal(lastStatus('llm').text, 'no model: see debug');
  });
});
