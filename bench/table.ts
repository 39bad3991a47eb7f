/** One line of a benchmark report. */
export interface BenchRow {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** The same metric without our code in the way, measured in the same run. */
  baseline?: number;
  /** A target, e.g. "<= 10"; printed, and checked by the reader, not by CI. */
  goal?: string;
}

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

/** Prints rows as an aligned text table with a ratio column (value / baseline). */
export function printTable(rows: BenchRow[], out: (line: string) => void = console.log): void {
  const header = ['bench', 'metric', 'value', 'unit', 'baseline', 'ratio', 'goal'];
  const cells = rows.map((r) => [
    r.bench,
    r.metric,
    fmt(r.value),
    r.unit,
    fmt(r.baseline),
    r.baseline ? fmt(r.value / r.baseline) : '',
    r.goal ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  out(line(header));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) out(line(c));
}

/**
 * Runs a bench whose file was started directly (`npx tsx bench/x.ts`) and
 * prints its table, then exits: engine workers and servers a bench started
 * must not keep the process alive after the report.
 */
export function runAsScript(mod: NodeModule, run: () => Promise<BenchRow[]>): void {
  if (require.main !== mod) return;
  void run().then((rows) => {
    printTable(rows);
    process.exit(0);
  });
}
