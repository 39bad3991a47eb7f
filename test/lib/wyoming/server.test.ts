import assert from 'node:assert/strict';
import { isControlMessage, isFlush } from '../../../lib/messages';
import { SERVER_DEFAULTS, WyomingServer, type FlowMessage, type ServerOptions } from '../../../lib/wyoming/server';
import { until as untilFor } from '../../support/wait';
import { NO_WYOMING, wyoming, wyomingPython } from '../../support/wyoming-client';
import { RawClient } from '../../support/wyoming-socket';

/** Waits for a condition (5 s at most), naming it when it times out. */
const until = (check: () => boolean, ms = 5000) => untilFor(check, ms, check.toString());
const FORMAT = { rate: 16000, width: 2, channels: 1 };
const pcm = (ms: number) => Buffer.alloc((FORMAT.rate * 2 * ms) / 1000, 1);

/**
 * The real server with the flow played by the test: what wyoming-in would
 * send is recorded per service, and the test answers as wyoming-out would.
 */
describe('Wyoming server (real TCP server, no Node-RED)', function () {
  this.timeout(30_000);
  let server: WyomingServer;
  let port: number;
  let flow: Record<'asr' | 'tts' | 'handle', FlowMessage[]>;
  const clients: RawClient[] = [];

  async function start(options: Partial<ServerOptions> = {}, answerQuestions = true): Promise<void> {
    server = new WyomingServer({ ...SERVER_DEFAULTS, port: 0, host: '127.0.0.1', services: ['asr', 'tts', 'handle'], incompleteMs: 300, answerTimeoutMs: 2000, transcriptGraceMs: 200, ...options });
    port = await server.start();
    flow = { asr: [], tts: [], handle: [] };
    server.listen('asr', (m) => flow.asr.push(m));
    server.listen('tts', (m) => flow.tts.push(m));
    server.listen('handle', (m) => {
      flow.handle.push(m);
      // A flow that answers a moment later, as llama-llm would.
      if (answerQuestions && !isControlMessage(m)) setTimeout(() => server.answer({ topic: 'llm-reply', payload: `you said ${String(m.payload)}`, turnId: m.turnId }), 5);
    });
  }

  async function client(): Promise<RawClient> {
    const c = await RawClient.open(port);
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    // Nothing leaks: every socket is gone once the clients are.
    await until(() => server.clients === 0);
    await server.close();
  });

  it('answers describe with info listing only the services it offers', async () => {
    await start({ services: ['tts'] });
    const c = await client();
    c.send('describe');
    const info = (await c.next('info'))!;
    assert.equal((info.data.tts as unknown[]).length, 1);
    assert.deepEqual([info.data.asr, info.data.handle], [[], []]);
  });

  for (const [what, bytes, code] of [
    ['a header that is not JSON', Buffer.from('this is not json\n'), 'bad-header'],
    ['a line over 1 MB', Buffer.alloc(1024 * 1024 + 10, 0x61), 'too-big'],
    ['a payload_length larger than what is sent', Buffer.from('{"type":"audio-chunk","data":{"rate":16000,"width":2,"channels":1},"payload_length":5000}\nabc'), 'incomplete'],
    ['a payload_length smaller than what is sent', Buffer.from('{"type":"audio-chunk","payload_length":2}\nabcdef\n'), 'bad-header'],
  ] as const) {
    it(`${what}: an error event (${code}), the connection closed, the server answers the next client`, async () => {
      await start();
      const bad = await client();
      bad.write(bytes);
      const error = await bad.next('error');
      assert.equal(error?.data.code, code, JSON.stringify(error?.data));
      assert.ok(String(error?.data.text).length > 10, 'the error says what was wrong');
      await bad.whenClosed();
      const good = await client();
      good.send('describe');
      assert.ok(await good.next('info'));
    });
  }

  it('an unknown event type: an error event, and the connection goes on', async () => {
    await start();
    const c = await client();
    c.send('run-satellite');
    assert.equal((await c.next('error'))?.data.code, 'unknown-event');
    c.send('describe');
    assert.ok(await c.next('info'));
    assert.equal(c.closed, false);
  });

  it('audio in a format other than 16-bit PCM: an error event, nothing reaches the flow, the connection goes on', async () => {
    await start();
    const c = await client();
    c.send('transcribe');
    c.send('audio-start', { rate: 16000, width: 4, channels: 1 });
    assert.equal((await c.next('error'))?.data.code, 'bad-audio');
    c.send('audio-chunk', { rate: 16000, width: 4, channels: 1 }, pcm(40));
    c.send('describe');
    assert.ok(await c.next('info'));
    assert.equal(flow.asr.filter((m) => Buffer.isBuffer(m.payload)).length, 0);
  });

  it('a client that disconnects mid-stream: the flow gets a flush and an interrupt of its turn, the next transcription goes on', async () => {
    await start();
    const first = await client();
    first.send('transcribe');
    first.send('audio-start', FORMAT);
    first.send('audio-chunk', FORMAT, pcm(100));
    const second = await client();
    second.send('transcribe');
    second.send('audio-start', FORMAT);
    second.send('audio-chunk', FORMAT, pcm(60));
    second.send('audio-stop');
    await until(() => flow.asr.length >= 5);
    const turn = flow.asr[0].turnId;
    // asr takes one stream at a time: the second waits.
    assert.ok(flow.asr.every((m) => m.turnId === turn));
    first.close();
    await until(() => flow.asr.some((m) => m.turnId !== turn));
    const ofFirst = flow.asr.filter((m) => m.turnId === turn);
    assert.equal(ofFirst.filter((m) => Buffer.isBuffer(m.payload)).length, 5);
    assert.ok(isFlush(ofFirst.at(-2)!), 'the unfinished utterance ends');
    assert.equal((ofFirst.at(-1)!.control as { type: string; reason: string }).type, 'interrupt');
    // The second client's audio, then its flush; no speech heard → an empty transcript after the grace period.
    const transcript = await second.next('transcript');
    assert.equal(transcript?.data.text, '');
    const ofSecond = flow.asr.filter((m) => m.turnId !== turn);
    assert.equal(ofSecond.filter((m) => Buffer.isBuffer(m.payload)).length, 3);
    assert.ok(isFlush(ofSecond.at(-1)!));
  });

  it('a transcription is answered with the final transcripts asr gives while it is open, joined', async () => {
    await start();
    const c = await client();
    c.send('transcribe', { language: 'en' });
    c.send('audio-start', FORMAT);
    c.send('audio-chunk', FORMAT, pcm(40));
    await until(() => flow.asr.length === 2);
    const asrTurn = 't-asr-own';
    // asr's own turn ids: speech-start binds them to the transcription in progress.
    server.answer({ topic: 'control', turnId: asrTurn, control: { v: 1, type: 'speech-start', turnId: asrTurn, ts: Date.now() } });
    server.answer({ topic: 'transcript', payload: 'turn on', partial: true, turnId: asrTurn, timings: { recognitionMs: 1 } });
    server.answer({ topic: 'transcript', payload: 'turn on the light', partial: false, turnId: asrTurn, timings: { recognitionMs: 1 } });
    server.answer({ topic: 'control', turnId: 't-2', control: { v: 1, type: 'speech-start', turnId: 't-2', ts: Date.now() } });
    c.send('audio-stop');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c.events.some((e) => e.type === 'transcript'), false, 'an utterance is still open: no answer yet');
    server.answer({ topic: 'transcript', payload: 'please', partial: false, turnId: 't-2', timings: { recognitionMs: 1 } });
    const t = await c.next('transcript');
    assert.deepEqual(t?.data, { text: 'turn on the light please', language: 'en' });
    // A late message of that turn goes nowhere.
    assert.equal(server.answer({ topic: 'transcript', payload: 'late', partial: false, turnId: asrTurn, timings: { recognitionMs: 1 } }), false);
  });

  it('streaming synthesis: one text per sentence as the chunks arrive, the last complete; the compatibility synthesize is ignored', async () => {
    await start();
    const c = await client();
    c.send('synthesize-start');
    c.send('synthesize-chunk', { text: 'Hello the' });
    c.send('synthesize-chunk', { text: 're. How are' });
    c.send('synthesize-chunk', { text: ' you?' });
    c.send('synthesize', { text: 'Hello there. How are you?' });
    c.send('synthesize-stop');
    await until(() => flow.tts.length === 2);
    assert.deepEqual(
      flow.tts.map((m) => [m.payload, m.complete]),
      [
        ['Hello there.', false],
        ['How are you?', true],
      ],
    );
    // In its own room: a barge-in in a browser room must not cut Home Assistant's answer.
    assert.deepEqual(flow.tts.map((m) => m.room), ['home-assistant', 'home-assistant']);
    const frame = (text: string, extra: Record<string, unknown>) => ({ topic: 'audio', payload: Buffer.alloc(64), audio: { sampleRate: 22050, channels: 1, format: 's16le' }, text, turnId: flow.tts[0].turnId, ...extra });
    server.answer(frame('Hello there.', {}));
    server.answer(frame('Hello there.', { chunkEnd: true, complete: false }));
    server.answer(frame('How are you?', { chunkEnd: true, complete: true }));
    await c.next('synthesize-stopped');
    assert.deepEqual(
      c.events.map((e) => e.type),
      ['audio-start', 'audio-chunk', 'audio-chunk', 'audio-stop', 'audio-start', 'audio-chunk', 'audio-stop', 'synthesize-stopped'],
    );
    assert.deepEqual(c.events[0].data, { rate: 22050, width: 2, channels: 1 });
  });

  it('a request the flow does not answer in time: an error event (timeout), and the flow is told to stop', async () => {
    await start({ answerTimeoutMs: 300 }, false);
    const c = await client();
    c.send('transcript', { text: 'hello?' });
    const error = await c.next('error');
    assert.equal(error?.data.code, 'timeout');
    assert.match(String(error?.data.text), /llama-llm/);
    await until(() => flow.handle.length === 2);
    assert.equal((flow.handle[1].control as { type: string }).type, 'interrupt');
    assert.equal(flow.handle[1].turnId, flow.handle[0].turnId);
  });

  it('a client that starts a transcription and goes quiet: an error event (timeout), and the next transcription gets its turn', async () => {
    await start({ answerTimeoutMs: 400 });
    const quiet = await client();
    quiet.send('transcribe');
    quiet.send('audio-start', FORMAT);
    quiet.send('audio-chunk', FORMAT, pcm(40));
    const next = await client();
    next.send('transcribe');
    next.send('audio-start', FORMAT);
    next.send('audio-stop');
    const error = await quiet.next('error');
    assert.equal(error?.data.code, 'timeout');
    assert.match(String(error?.data.text), /sent nothing for 0.4 s in the middle of transcribe/);
    assert.equal((await next.next('transcript'))?.data.text, '');
  });

  it('requests for a service nobody handles, or that is not offered: an error event (no-flow)', async () => {
    await start({ services: ['asr', 'tts'] });
    const c = await client();
    c.send('transcript', { text: 'hello' });
    assert.equal((await c.next('error'))?.data.code, 'no-flow');
    const other = new WyomingServer({ ...SERVER_DEFAULTS, port: 0, host: '127.0.0.1', services: ['tts'] });
    const otherPort = await other.start();
    try {
      const d = await RawClient.open(otherPort);
      d.send('synthesize', { text: 'Hi.' });
      const error = await d.next('error');
      assert.equal(error?.data.code, 'no-flow');
      assert.match(String(error?.data.text), /wyoming-in/);
      d.close();
      await until(() => other.clients === 0);
    } finally {
      await other.close();
    }
  });

  it('closing (a redeploy) with clients in the middle of requests: their sockets close, none is left open', async () => {
    await start();
    const talking = await client();
    talking.send('transcribe');
    talking.send('audio-start', FORMAT);
    talking.send('audio-chunk', FORMAT, pcm(40));
    const idle = await client();
    await until(() => server.clients === 2 && flow.asr.length > 0);
    await server.close();
    await Promise.all([talking.whenClosed(), idle.whenClosed()]);
    assert.equal(server.clients, 0);
  });

  it('more clients than it takes: the one too many gets an error event (busy) and is closed', async () => {
    await start({ maxClients: 3 });
    for (let i = 0; i < 3; i++) await client();
    const extra = await client();
    assert.equal((await extra.next('error'))?.data.code, 'busy');
    await extra.whenClosed();
  });

  it('50 clients at once (the official client): each gets its own answer, and the sockets go back to zero', async function () {
    const python = wyomingPython();
    if (!python) return this.skip(); // NO_WYOMING
    await start();
    const texts = Array.from({ length: 50 }, (_, i) => `question ${i}`);
    const { answers } = await wyoming<{ answers: Array<{ text: string; events: string[] }> }>(python, port, { do: 'many', clients: 50, each: 'handle', texts });
    assert.deepEqual(
      answers.map((a) => a.text),
      texts.map((t) => `you said ${t}`),
    );
    assert.ok(answers.every((a) => a.events.join() === 'handled'));
    await until(() => server.clients === 0);
  });
});

if (!wyomingPython()) console.log(`      ${NO_WYOMING}`);
