import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * Physical CPU cores. llama.cpp spins one busy thread per requested thread;
 * on hyper-threaded or shared machines more threads than physical cores makes
 * it far slower, so this is the default thread count.
 */
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

function readCpuinfo(): string | undefined {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
}
