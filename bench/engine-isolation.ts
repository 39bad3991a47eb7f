/**
 * engine-isolation: what running an engine in a child process (the default,
 * so that a native abort costs only its node) costs per 20 ms frame against a
 * worker thread, in the same run, on the asr engine as the asr node drives it
 * over the 60 s speech clip (Silero VAD on every frame, the tiny recogniser's
 * decodes at speech ends):
 * - CPU per frame, both sides of the wire (this process, plus the child's own
 *   time from /proc), with frames sent as the node sends them: without
 *   waiting for the previous one;
 * - latency per frame, each call awaited before the next: the round trip a
 *   VAD event waits for;
 * - the empty round trip of one frame: the wire alone.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavMono } from '../lib/audio/wav';
import { EngineHost } from '../lib/engine/host';
import type { Isolation } from '../lib/engine/transport';
import { VAD_DEFAULTS } from '../lib/vad/silero-vad';
import { writeTinyAsrModel } from '../test/support/tiny-asr-model';
import type { BenchRow } from './table';

const SHARED = process.env.VOICE_SHARED_DIR ?? join(__dirname, '..', '..', 'shared');
const VAD = { model: join(SHARED, 'models', 'vad', 'silero_vad.onnx'), ...VAD_DEFAULTS };
const FRAME = 320;
const ECHO_ENGINE = join(__dirname, '..', 'test', 'lib', 'engine', 'fixtures', 'test-engine.ts');
const CLOCK_TICKS_PER_S = 100;

/** CPU microseconds a child process has used so far (Linux: utime + stime from /proc). */
function childCpuUs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_S;
}

interface Pass {
  cpuUs: number;
  latencyUs: number;
}

async function pass(isolation: Isolation, modulePath: string, options: unknown, method: string, samples: Float32Array): Promise<Pass> {
  const host = new EngineHost({ modulePath, name: 'bench', options, isolation });
  await host.start();
  const frames = Math.floor(samples.length / FRAME);
  const frame = (i: number) => samples.slice(i * FRAME, (i + 1) * FRAME);
  try {
    const cpu0 = process.cpuUsage();
    const child0 = childCpuUs(host.pid);
    await Promise.all(Array.from({ length: frames }, (_, i) => host.call(method, frame(i))));
    const own = process.cpuUsage(cpu0);
    const cpuUs = (own.user + own.system + childCpuUs(host.pid) - child0) / frames;
    const t0 = performance.now();
    for (let i = 0; i < frames; i++) await host.call(method, frame(i));
    return { cpuUs, latencyUs: ((performance.now() - t0) * 1000) / frames };
  } finally {
    await host.close();
  }
}

/** Alternating passes, best of each: the machine is shared, and a single pass scatters. */
async function compare(modulePath: string, options: unknown, method: string, samples: Float32Array, rounds = 3): Promise<Record<Isolation, Pass>> {
  const best: Record<Isolation, Pass> = { process: { cpuUs: Infinity, latencyUs: Infinity }, thread: { cpuUs: Infinity, latencyUs: Infinity } };
  for (let r = 0; r < rounds; r++) {
    for (const isolation of ['thread', 'process'] as const) {
      const p = await pass(isolation, modulePath, options, method, samples);
      best[isolation] = { cpuUs: Math.min(best[isolation].cpuUs, p.cpuUs), latencyUs: Math.min(best[isolation].latencyUs, p.latencyUs) };
    }
  }
  return best;
}

export async function run(): Promise<BenchRow[]> {
  const { samples } = await readWavMono(join(SHARED, 'models', 'testdata', 'silero_vad_test_60s.wav'));
  const dir = mkdtempSync(join(tmpdir(), 'rv-bench-iso-'));
  try {
    const asr = require.resolve('../lib/asr/asr-engine');
    const vad = await compare(asr, { vad: VAD, modelDir: '' }, 'audio', samples);
    const rec = await compare(asr, { vad: VAD, modelDir: writeTinyAsrModel(dir) }, 'audio', samples);
    const echo = await compare(ECHO_ENGINE, undefined, 'echo', samples.subarray(0, FRAME * 1000));
    const bench = 'engine isolation';
    const vs = '(baseline: worker thread)';
    return [
      { bench, metric: `asr engine, VAD only: CPU per frame, child process ${vs}`, value: vad.process.cpuUs, unit: 'µs', baseline: vad.thread.cpuUs, goal: 'ratio <= 1.2' },
      { bench, metric: `asr engine, VAD + tiny recogniser: CPU per frame ${vs}`, value: rec.process.cpuUs, unit: 'µs', baseline: rec.thread.cpuUs, goal: 'ratio <= 1.2' },
      { bench, metric: `asr engine, VAD only: latency per frame ${vs}`, value: vad.process.latencyUs, unit: 'µs', baseline: vad.thread.latencyUs, goal: '<< 20 000' },
      { bench, metric: `asr engine, VAD + tiny recogniser: latency per frame ${vs}`, value: rec.process.latencyUs, unit: 'µs', baseline: rec.thread.latencyUs, goal: '<< 20 000' },
      { bench, metric: `empty round trip of a 20 ms frame: latency ${vs}`, value: echo.process.latencyUs, unit: 'µs', baseline: echo.thread.latencyUs },
      { bench, metric: `empty round trip of a 20 ms frame: CPU ${vs}`, value: echo.process.cpuUs, unit: 'µs', baseline: echo.thread.cpuUs },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
