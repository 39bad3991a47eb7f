import assert from 'node:assert/strict';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { EngineHost } from '../../../lib/engine/host';
import { SHARED_MODELS, TESTDATA } from '../../support/paths';

const TEST_ENGINE = join(__dirname, 'fixtures', 'test-engine.ts');
const VAD_ENGINE = join(__dirname, '..', '..', '..', 'bench', 'engines', 'silero-vad-engine.ts');

type Where = { threadId: number; pid: number };

describe('EngineHost', () => {
  let host: EngineHost;
  afterEach(async () => {
    await host?.close();
  });

  it('loads the engine in a child process by default and answers requests', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'test' });
    const info = (await host.start()) as Where;
    assert.notEqual(info.pid, process.pid, 'engine must run in its own process');
    assert.deepEqual(await host.call('echo', { a: [1, 2] }), { a: [1, 2] });
    assert.equal(host.state, 'ready');
  });

  it('loads the engine in a worker thread when asked, and answers requests', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'test', isolation: 'thread' });
    const info = (await host.start()) as Where;
    assert.equal(info.pid, process.pid);
    assert.notEqual(info.threadId, threadId, 'engine must not run on the main thread');
    assert.deepEqual(await host.call('echo', { a: [1, 2] }), { a: [1, 2] });
  });

  it('carries audio across the process boundary as typed arrays, in both directions', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'test' });
    const samples = Float32Array.from({ length: 320 }, (_, i) => Math.sin(i / 10));
    const back = await host.call<Float32Array>('echo', samples);
    assert.ok(back instanceof Float32Array);
    assert.deepEqual(Array.from(back), Array.from(samples));
  });

  it('survives an engine that aborts natively while loading: a clear error, no restart, this process alive', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'asr', options: { abortLoad: true }, restartDelaysMs: [5] });
    const restarts: number[] = [];
    host.on('restart', (n: number) => restarts.push(n));
    await assert.rejects(host.start(), (err: Error & { code?: string; statusText?: string }) => {
      assert.equal(err.code, 'MODEL_UNLOADABLE');
      assert.equal(err.statusText, 'bad model file');
      assert.match(err.message, /^asr: the engine died while loading its model \(signal SIGABRT\)/);
      assert.match(err.message, /Protobuf parsing failed/, 'says what the library said before dying');
      assert.match(err.message, /download it again or choose another file/);
      return true;
    });
    assert.equal(host.state, 'failed');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(restarts, []);
  });

  it('restarts an engine that aborts natively in the middle of a request', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'vad', restartDelaysMs: [10] });
    const first = (await host.start()) as Where;
    const restarted = new Promise((r) => host.once('ready', r));
    await assert.rejects(host.call('abort'), { name: 'EngineCrashedError', message: /signal SIGABRT.*Protobuf parsing failed/ });
    const second = (await restarted) as Where;
    assert.notEqual(second.pid, first.pid);
    assert.equal(await host.call('echo', 'back'), 'back');
  });

  it('streams chunks in order before the result', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'test' });
    const chunks: unknown[] = [];
    const result = await host.call('stream', 5, { onChunk: (c) => chunks.push(c) });
    assert.equal(result, 5);
    assert.deepEqual(chunks, [0, 1, 2, 3, 4]);
  });

  it('rejects at once on cancel and drops whatever the worker still sends', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'test' });
    await host.start();
    const controller = new AbortController();
    let chunksAfterAbort = 0;
    let aborted = false;
    const call = host.call('spin', 10_000, {
      signal: controller.signal,
      onChunk: () => {
        if (aborted) chunksAfterAbort++;
      },
    });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    aborted = true;
    controller.abort();
    await assert.rejects(call, { name: 'AbortError', code: 'ABORTED' });
    assert.ok(performance.now() - t0 < 250, 'cancel must not wait for the worker');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(chunksAfterAbort, 0);
    // The worker stopped spinning and still serves requests.
    assert.equal(await host.call('echo', 'still alive'), 'still alive');
  });

  it('passes an engine error to the caller with its code and keeps running', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'asr' });
    await assert.rejects(host.call('fail'), { name: 'EngineError', code: 'BAD_INPUT', message: 'asr: bad input: sample rate 8000' });
    assert.equal(await host.call('echo', 1), 1);
  });

  it('reports a model that cannot load and does not restart', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'asr', options: { failLoad: true } });
    await assert.rejects(host.start(), { code: 'MODEL_MISSING', message: /encoder\.onnx/ });
    assert.equal(host.state, 'failed');
  });

  for (const [method, isolation] of [['crash', 'process'], ['exit', 'process'], ['crash', 'thread'], ['exit', 'thread']] as const) {
    it(`isolates a worker that dies (${method}, ${isolation}), reports it and restarts`, async () => {
      host = new EngineHost({ modulePath: TEST_ENGINE, name: 'tts', restartDelaysMs: [10], isolation });
      const first = (await host.start()) as Where;
      const crashes: Error[] = [];
      host.on('crash', (e: Error) => crashes.push(e));
      const restarted = new Promise((r) => host.once('ready', r));
      await assert.rejects(host.call(method), { name: 'EngineCrashedError', message: /^tts: engine/ });
      const second = (await restarted) as Where;
      assert.equal(crashes.length, 1);
      assert.notDeepEqual(second, first);
      assert.equal(await host.call('echo', 'back'), 'back');
    });
  }

  it('gives up after too many crashes in a row', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'tts', restartDelaysMs: [5], maxCrashes: 2 });
    const failed = new Promise<Error>((r) => host.once('failed', r));
    for (let i = 0; i < 3; i++) {
      await assert.rejects(host.call('exit'), { name: 'EngineCrashedError' });
    }
    assert.match((await failed).message, /exited unexpectedly/);
    assert.equal(host.state, 'failed');
    await assert.rejects(host.call('echo', 1));
  });

  it('rejects in-flight requests and stops the thread on close', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'test' });
    await host.start();
    const inFlight = assert.rejects(host.call('spin', 10_000), { name: 'EngineClosedError' });
    await host.close();
    await inFlight;
    await assert.rejects(host.call('echo', 1), { name: 'EngineClosedError' });
    assert.equal(host.state, 'closed');
  });

  it('runs a real native engine (sherpa-onnx Silero VAD) inside the worker', async () => {
    host = new EngineHost({
      modulePath: VAD_ENGINE,
      name: 'vad',
      options: { model: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), wav: join(TESTDATA, 'arctic_aew_a0001.wav') },
    });
    const result = (await host.call('segments', { passes: 1 })) as { segments: { start: number; end: number }[] };
    assert.equal(result.segments.length, 1, 'one spoken sentence is one segment');
    assert.ok(result.segments[0].end - result.segments[0].start > 1.5);
  });
});
