/**
 * `npm run bench`: runs every bench/<name>.ts that exports `run()` and prints
 * one table. `BENCH_ONLY=event-loop,llm` runs a subset.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { printTable, type BenchRow } from './table';

const NOT_BENCHES = new Set(['run', 'table']);

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',');
  const names = readdirSync(__dirname)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => basename(f, '.ts'))
    .filter((n) => !NOT_BENCHES.has(n) && (!only || only.includes(n)))
    .sort();
  const rows: BenchRow[] = [];
  for (const name of names) {
    const mod = (await import(join(__dirname, `${name}.ts`))) as { run?: () => Promise<BenchRow[]> };
    if (typeof mod.run !== 'function') continue;
    process.stderr.write(`running ${name}…\n`);
    rows.push(...(await mod.run()));
  }
  printTable(rows);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
