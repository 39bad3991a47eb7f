/**
 * soak: an hour (SOAK_MINUTES) of synthetic conversation through the shipped
 * flow (test/support/soak.ts: spoken turns, typed turns, a barge-in every
 * third turn, an announcement every minute, a redeploy every ten minutes).
 * Prints the figures and writes a plot of RSS and event-loop lag over time
 * to .test-output/soak.png. The goals are the issue's: RSS growth after
 * warm-up <= 20 MB, handles and engines back after each redeploy, no turn
 * lost or spoken twice, event-loop lag p99 <= 10 ms. Node-RED's memory
 * depends on glibc's malloc settings, which only the environment at start
 * sets: `npm run bench` sets them as `npm start` does (scripts/start.mjs says
 * why), and the output says which were in effect.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plotSoak, soakTable } from '../test/support/soak-report';
import { rssGrowthMb, soak } from '../test/support/soak';
import type { BenchRow } from './table';

const MALLOC_SETTINGS = ['MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_'];

export async function run(): Promise<BenchRow[]> {
  const minutes = Number(process.env.SOAK_MINUTES ?? 60);
  const warmUpS = Math.min(600, minutes * 6);
  const dir = mkdtempSync(join(tmpdir(), 'rv-bench-soak-'));
  try {
    const result = await soak({
      durationMs: minutes * 60_000,
      redeployEveryMs: 10 * 60_000,
      announceEveryMs: 60_000,
      sampleEveryMs: 10_000,
      warmUpMs: warmUpS * 1000,
      dir,
      onProgress: (line) => process.stderr.write(`soak ${line}\n`),
    });
    const out = join(__dirname, '..', '.test-output');
    mkdirSync(out, { recursive: true });
    plotSoak(result, join(out, 'soak.png'));
    const malloc = MALLOC_SETTINGS.map((name) => `${name}=${process.env[name] ?? "glibc's default"}`).join(', ');
    for (const line of [`malloc settings: ${malloc}`, ...soakTable(result, warmUpS)]) process.stderr.write(`soak: ${line}\n`);
    const bench = `soak ${minutes} min`;
    const turns = Object.values(result.turns).reduce((a, b) => a + b, 0);
    const back = result.redeploys.filter((r) => r.handles === result.start.handles && r.engines === result.start.engines).length;
    return [
      { bench, metric: 'RSS growth after warm-up, this process + engine processes', value: rssGrowthMb(result, warmUpS, 'totalRssMb'), unit: 'MB', goal: '<= 20' },
      { bench, metric: 'RSS growth after warm-up, this process', value: rssGrowthMb(result, warmUpS, 'mainRssMb'), unit: 'MB', goal: '<= 20' },
      ...(result.settled.warm && result.settled.end
        ? [
            { bench, metric: 'JS heap growth after warm-up, this process, after a full GC', value: result.settled.end.heapMb - result.settled.warm.heapMb, unit: 'MB' },
            { bench, metric: 'RSS growth after warm-up, this process, after a full GC', value: result.settled.end.rssMb - result.settled.warm.rssMb, unit: 'MB', goal: '<= 20' },
          ]
        : []),
      { bench, metric: 'event-loop lag p99 after warm-up', value: result.lagP99Ms, unit: 'ms', goal: '<= 10' },
      { bench, metric: 'event-loop lag max after warm-up', value: result.lagMaxMs, unit: 'ms' },
      { bench, metric: `turns (${JSON.stringify(result.turns)})`, value: turns, unit: 'turns' },
      { bench, metric: 'turns lost or spoken twice', value: result.lost.length + result.twice.length, unit: 'turns', goal: '0' },
      { bench, metric: `redeploys with handles and engines back to ${result.start.handles} / ${result.start.engines}`, value: back, unit: `of ${result.redeploys.length}`, goal: 'all' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
