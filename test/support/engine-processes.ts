import { readFileSync, readdirSync } from 'node:fs';

/**
 * The engine child processes this test process (or the process `parent`,
 * e.g. a Node-RED it runs) has started (EngineHost's default isolation),
 * found as the OOM killer or a user's `kill` would find them: by parent pid
 * and command line. Linux only (/proc).
 */
export function engineProcesses(parent = process.pid): number[] {
  return childProcesses(parent, 'worker-main');
}

/** The device processes (lib/audio-io/device-main) of `parent`: one per open sound-card stream. */
export function deviceProcesses(parent = process.pid): number[] {
  return childProcesses(parent, 'device-main');
}

function childProcesses(parent: number, main: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(main)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
