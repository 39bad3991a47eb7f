/** `npm run bench`: every benchmark in turn, one table. BENCH_ONLY=name runs one. */
import { printTable, type BenchRow } from './table';

const BENCHES: Record<string, () => Promise<{ run: () => Promise<BenchRow[]> }>> = {
  'event-loop': () => import('./event-loop'),
};

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  const rows: BenchRow[] = [];
  for (const [name, load] of Object.entries(BENCHES)) {
    if (only && only !== name) continue;
    process.stderr.write(`running ${name}…\n`);
    rows.push(...(await (await load()).run()));
  }
  printTable(rows);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
