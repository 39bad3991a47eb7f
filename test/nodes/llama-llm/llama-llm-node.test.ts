import assert from 'node:assert/strict';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { makeControl } from '../../../lib/control/protocol';
import llamaLlm from '../../../nodes/llama-llm/llama-llm';
import { fixture, LlamaReplay } from '../../support/llama-replay';
import { collect, nextMessage } from '../../support/node-red';
import { SHARED_MODELS } from '../../support/paths';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown> & { payload?: unknown; control?: { type: string } };
const TINY_GGUF = join(SHARED_MODELS, 'llm', 'stories260K.gguf');

function flow(llm: Record<string, unknown>) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'llm', z: 'f1', type: 'llama-llm', name: 'assistant', ...llm, wires: [['chunks'], ['metrics'], ['reply'], ['control']] },
    { id: 'chunks', z: 'f1', type: 'helper' },
    { id: 'metrics', z: 'f1', type: 'helper' },
    { id: 'reply', z: 'f1', type: 'helper' },
    { id: 'control', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const lastStatus = (id: string) =>
  (helper.getNode(id).status as unknown as { lastCall: { args: [{ fill?: string; text?: string }] } }).lastCall.args[0];

describe('llama-llm node with a replayed llama-server', () => {
  let server: LlamaReplay;
  const completion = JSON.parse(fixture('completion.json')).content as string;

  beforeEach(async () => {
    server = await new LlamaReplay().start();
    server.route('/health', { body: fixture('health.json'), contentType: 'application/json' });
    server.route('/completion', { body: fixture('completion-stream.sse'), chunkSize: 40, gapMs: 2 });
  });
  afterEach(async () => {
    await helper.unload();
    await server.stop();
  });

  const load = () => helper.load(llamaLlm, flow({ url: server.base, endpoint: 'completion', style: 'none', systemPrompt: 'Tell a story.' }));

  it('answers a text turn: sentence chunks, metrics, the full reply and pause/resume', async () => {
    await load();
    const chunks = collect<Msg>('chunks');
    const controls = collect<Msg>('control');
    const metrics = nextMessage<Msg & { payload: Record<string, unknown> }>('metrics');
    const reply = nextMessage<Msg>('reply');
    helper.getNode('llm').receive({ payload: 'Once upon a time', turnId: 't-1' } as never);
    const r = await reply;
    assert.equal(r.payload, completion.trim());
    assert.equal(r.turnId, 't-1');
    assert.deepEqual(
      chunks.map((c) => [c.payload, c.complete, c.index]),
      [
        [', there was a little girl named Lily.', false, 0],
        ['She loved to play outside in the p', true, 1],
      ],
    );
    assert.equal((chunks[1].parts as { count: number }).count, 2);
    assert.deepEqual(
      controls.map((c) => c.control!.type),
      ['pause', 'resume'],
    );
    const m = (await metrics).payload;
    assert.equal(m.engine, 'server');
    assert.equal((m.generation as { tokens: number }).tokens, 24);
    for (const key of ['build_prompt_ms', 'pre_request_gap_ms', 'server_first_byte_ms', 'first_sse_line_after_send_ms', 'first_token_latency_total_ms', 'end_to_end_ms']) {
      assert.equal(typeof m[key], 'number', key);
    }
    assert.match(lastStatus('llm').text!, /^ready/);
  });

  it('stops at once on interrupt, sends nothing more of that turn, and remembers only what was spoken', async () => {
    server.route('/completion', { body: fixture('completion-stream.sse'), chunkSize: 30, gapMs: 5 });
    await load();
    const chunks = collect<Msg>('chunks');
    const replies = collect<Msg>('reply');
    const metrics = collect<Msg>('metrics');
    const llm = helper.getNode('llm');
    llm.receive({ payload: 'Once upon a time', turnId: 't-1' } as never);
    while (!chunks.length) await new Promise((r) => setTimeout(r, 5));
    llm.receive(makeControl('speech-start', 't-2', { source: 'asr' }) as never);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(chunks.length, 1, 'only the chunk sent before the barge-in');
    assert.equal(replies.length + metrics.length, 0);
    // speaker-out says the user heard half of the first sentence.
    llm.receive(makeControl('tts-end', 't-1', { cut: true, playedMs: 900, spokenText: ', there was a little' }) as never);
    // A transcript of the interrupted turn arriving late is dropped.
    llm.receive({ payload: 'late words', turnId: 't-1' } as never);
    const reply = nextMessage<Msg>('reply');
    llm.receive({ payload: 'And then?', turnId: 't-2' } as never);
    await reply;
    const prompts = server.requests.filter((r) => r.path === '/completion').map((r) => JSON.parse(r.body).prompt as string);
    assert.equal(prompts.length, 3, 'warm-up, t-1, t-2: the late t-1 transcript was not sent');
    assert.ok(prompts[2].includes('Assistant: , there was a little\nUser: And then?'), prompts[2]);
    assert.ok(!prompts[2].includes('named Lily'));
  });

  it('empties the history on msg.reset', async () => {
    await load();
    const llm = helper.getNode('llm');
    let reply = nextMessage('reply');
    llm.receive({ payload: 'First question' } as never);
    await reply;
    llm.receive({ reset: true } as never);
    reply = nextMessage('reply');
    llm.receive({ payload: 'Second question' } as never);
    await reply;
    const last = JSON.parse(server.requests.at(-1)!.body).prompt as string;
    assert.ok(!last.includes('First question'), last);
  });

  it('routes bad input to a Catch node, turns red, and keeps working', async () => {
    await load();
    const llm = helper.getNode('llm');
    let caught = nextMessage<{ error: { message: string } }>('caught');
    llm.receive({ payload: 42 } as never);
    assert.match((await caught).error.message, /msg\.payload must be text, got number/);
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
  });

  it('reports a server that is down', async () => {
    await server.stop();
    await load();
    const caught = nextMessage<{ error: { message: string } }>('caught');
    helper.getNode('llm').receive({ payload: 'Hello' } as never);
    assert.match((await caught).error.message, /not reachable/);
    assert.equal(lastStatus('llm').text, 'server down');
    server = await new LlamaReplay().start(); // for afterEach
  });
});

describe('llama-llm node with the embedded engine (tiny real GGUF)', () => {
  afterEach(() => helper.unload());

  it('loads the GGUF in-process and streams a bounded reply', async function () {
    this.timeout(60_000);
    await helper.load(llamaLlm, flow({ modelPath: TINY_GGUF, threads: 1, contextSize: 512, maxTokens: 40, temperature: 0, style: 'none', systemPrompt: '' }));
    const chunks = collect<Msg>('chunks');
    const metrics = nextMessage<{ payload: { engine: string; generation: { tokens: number } } }>('metrics');
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
    assert.ok(m.generation.tokens > 0 && m.generation.tokens <= 40, JSON.stringify(m));
  });

  it('names a missing GGUF file in the error and the status', async () => {
    await helper.load(llamaLlm, flow({ modelPath: '/nowhere/model.gguf' }));
    const caught = nextMessage<{ error: { message: string } }>('caught');
    helper.getNode('llm').receive({ payload: 'Hello' } as never);
    assert.match((await caught).error.message, /model file not found: \/nowhere\/model\.gguf/);
    assert.equal(lastStatus('llm').text, 'model missing');
  });
});
