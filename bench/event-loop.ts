/**
 * Event-loop lag on Node-RED's thread while an engine works flat out in a
 * worker: the promise of the engine host. Baseline = the same measurement
 * with the main thread idle, in the same process.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EngineHost } from '../lib/engine/host';
import type { BenchRow } from './table';

const SHARED = process.env.VOICE_SHARED_DIR ?? join(__dirname, '..', '..', 'shared');
const VAD_OPTIONS = {
  model: join(SHARED, 'models', 'vad', 'silero_vad.onnx'),
  wav: join(SHARED, 'models', 'testdata', 'silero_vad_test_60s.wav'),
};

async function lagWhile(work: () => Promise<unknown>): Promise<{ p50: number; p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await work();
  h.disable();
  const ms = (ns: number) => ns / 1e6;
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(seconds = Number(process.env.BENCH_SECONDS ?? 10)): Promise<BenchRow[]> {
  const idle = await lagWhile(() => sleep(seconds * 1000));

  const host = new EngineHost({ modulePath: require.resolve('./engines/silero-vad-engine'), name: 'vad', options: VAD_OPTIONS });
  await host.start();
  let passes = 0;
  const busy = await lagWhile(async () => {
    const r = (await host.call('segments', { untilMs: Date.now() + seconds * 1000 })) as { passes: number };
    passes = r.passes;
  });
  await host.close();

  const bench = 'event-loop';
  return [
    { bench, metric: 'lag p50, VAD in worker', value: busy.p50, unit: 'ms', baseline: idle.p50 },
    { bench, metric: 'lag p99, VAD in worker', value: busy.p99, unit: 'ms', baseline: idle.p99, goal: '<= 10 ms' },
    { bench, metric: 'lag max, VAD in worker', value: busy.max, unit: 'ms', baseline: idle.max },
    { bench, metric: 'VAD work done in worker', value: (passes * 60) / seconds, unit: 'x realtime' },
  ];
}

if (require.main === module) {
  void run().then(async (rows) => (await import('./table')).printTable(rows));
}
