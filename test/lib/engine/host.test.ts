import assert from 'node:assert/strict';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { EngineHost } from '../../../lib/engine/host';
import { SHARED_MODELS, TESTDATA } from '../../support/paths';

const TEST_ENGINE = join(__dirname, 'fixtures', 'test-engine.ts');
const VAD_ENGINE = join(__dirname, '..', '..', '..', 'bench', 'engines', 'silero-vad-engine.ts');

describe('EngineHost', () => {
  let host: EngineHost;
  afterEach(async () => {
    await host?.close();
  });

  it('loads the engine in a worker thread and answers requests', async () => {
    host = new EngineHost({ modulePath: TEST_ENGINE, name: 'test' });
    const info = (await host.start()) as { threadId: number };
    assert.notEqual(info.threadId, threadId, 'engine must not run on the main thread');
    assert.deepEqual(await host.call('echo', { a: [1, 2] }), { a: [1, 2] });
    assert.equal(host.state, 'ready');
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

  for (const method of ['crash', 'exit'] as const) {
    it(`isolates a worker that dies (${method}), reports it and restarts`, async () => {
      host = new EngineHost({ modulePath: TEST_ENGINE, name: 'tts', restartDelaysMs: [10] });
      const first = (await host.start()) as { threadId: number };
      const crashes: Error[] = [];
      host.on('crash', (e: Error) => crashes.push(e));
      const restarted = new Promise((r) => host.once('ready', r));
      await assert.rejects(host.call(method), { name: 'EngineCrashedError', message: /^tts: engine/ });
      const second = (await restarted) as { threadId: number };
      assert.equal(crashes.length, 1);
      assert.notEqual(second.threadId, first.threadId);
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
