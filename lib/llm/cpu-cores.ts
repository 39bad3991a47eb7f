import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Physical CPU cores (hyper-threads not counted), from /proc/cpuinfo where there is one. */
export function physicalCores(cpuinfo = readCpuinfo()): number {
  if (cpuinfo) {
    const cores = new Set<string>();
    let physical = '0';
    for (const line of cpuinfo.split('\n')) {
      const [key, value] = line.split(':').map((s) => s?.trim());
      if (key === 'physical id') physical = value;
      if (key === 'core id') cores.add(`${physical}/${value}`);
    }
    if (cores.size > 0) return cores.size;
  }
  return Math.max(1, availableParallelism());
}

/**
 * The default llama.cpp thread count: one per physical core, but never every
 * CPU. llama.cpp's threads spin while they wait, so on a machine where they
 * take all CPUs the event loop, asr and piper-tts starve them and each token
 * waits for the scheduler: on a 2-vCPU box 2 threads decode at ~80 tok/s and
 * 1 thread at ~1,500 tok/s (shared/models/llm/README.md).
 */
export function defaultThreads(physical = physicalCores(), logical = availableParallelism()): number {
  return Math.max(1, Math.min(physical, logical - 1));
}

function readCpuinfo(): string | undefined {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
}
