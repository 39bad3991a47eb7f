import { plotPanels } from './plot-png';
import { rssGrowthMb, type SoakResult } from './soak';

/** The soak's figures as table lines (for the test's log and the bench's notes). */
export function soakTable(result: SoakResult, warmUpS: number): string[] {
  const last = result.samples.at(-1);
  const lagWorst = Math.max(...result.samples.filter((s) => s.atS >= warmUpS).map((s) => s.lagP99Ms));
  return [
    `duration ${((last?.atS ?? 0) / 60).toFixed(1)} min, turns ${JSON.stringify(result.turns)}, lost ${result.lost.length}, spoken twice ${result.twice.length}`,
    `RSS after warm-up: total ${rssGrowthMb(result, warmUpS, 'totalRssMb').toFixed(1)} MB growth (now ${last?.totalRssMb.toFixed(0)} MB), this process ${rssGrowthMb(result, warmUpS, 'mainRssMb').toFixed(1)} MB (now ${last?.mainRssMb.toFixed(0)} MB)`,
    `this process's growth by kind: anonymous ${rssGrowthMb(result, warmUpS, 'mainAnonMb').toFixed(1)} MB (V8's heap ${rssGrowthMb(result, warmUpS, 'mainHeapTotalMb').toFixed(1)} MB of it), mapped files ${rssGrowthMb(result, warmUpS, 'mainFileMb').toFixed(1)} MB`,
    settledLine(result),
    `event-loop lag after warm-up: p99 ${result.lagP99Ms.toFixed(2)} ms, max ${result.lagMaxMs.toFixed(1)} ms, worst sampling window p99 ${lagWorst.toFixed(2)} ms`,
    `handles / engine processes at start ${result.start.handles} / ${result.start.engines}; after each redeploy ${result.redeploys.map((r) => `${r.handles} / ${r.engines}`).join(', ') || 'none'}`,
    ...result.lost.map((l) => `lost: ${l}`),
    ...result.twice.map((t) => `spoken twice: ${t}`),
  ];
}

function settledLine({ settled: { warm, end } }: SoakResult): string {
  if (!warm || !end) return 'after a full GC: not measured (the run ended within its warm-up)';
  const d = (a: number, b: number) => `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(1)} MB`;
  return `this process after a full GC, warm-up end (${warm.atS.toFixed(0)} s) -> end (${end.atS.toFixed(0)} s): JS heap ${warm.heapMb.toFixed(1)} -> ${end.heapMb.toFixed(1)} MB (${d(warm.heapMb, end.heapMb)}; V8 holds ${d(warm.heapTotalMb, end.heapTotalMb)}), external ${d(warm.externalMb, end.externalMb)}, RSS ${warm.rssMb.toFixed(0)} -> ${end.rssMb.toFixed(0)} MB (${d(warm.rssMb, end.rssMb)})`;
}

/** Total RSS (top, MB) and event-loop lag p99 per window (bottom, ms) over time (s). */
export function plotSoak(result: SoakResult, path: string): void {
  plotPanels(path, [
    { points: result.samples.map((s) => [s.atS, s.totalRssMb]), colour: [200, 30, 30] },
    { points: result.samples.map((s) => [s.atS, s.mainRssMb]), colour: [30, 30, 200] },
    { points: result.samples.map((s) => [s.atS, s.lagP99Ms]), colour: [20, 140, 20] },
  ]);
}
