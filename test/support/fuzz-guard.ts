import fc from 'fast-check';
import { show } from './fuzz-messages';

/**
 * What every fuzz property runs under. A throw that escapes a node surfaces
 * as an uncaught exception or an unhandled rejection of the process (Node-RED
 * would log it, or die): both are recorded while a property runs and fail it.
 */
export class ProcessGuard {
  private readonly escaped: string[] = [];
  private readonly onError = (err: unknown): void => {
    this.escaped.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  };

  install(): void {
    process.on('uncaughtException', this.onError);
    process.on('unhandledRejection', this.onError);
  }

  dispose(): void {
    process.off('uncaughtException', this.onError);
    process.off('unhandledRejection', this.onError);
  }

  /** Throws (failing the run, so fast-check shrinks it) when anything escaped since the last check. */
  check(): void {
    if (!this.escaped.length) return;
    const all = this.escaped.splice(0).join('\n---\n');
    throw new Error(`escaped the node (Node-RED would log or die): ${all}`);
  }
}

/** Installs a ProcessGuard for the enclosing mocha describe. */
export function guardProcess(): ProcessGuard {
  const guard = new ProcessGuard();
  before(() => guard.install());
  after(() => guard.dispose());
  return guard;
}

/**
 * Bounded runs, shrinking on. A failure prints its seed and path; FUZZ_SEED
 * and FUZZ_PATH replay it, FUZZ_RUNS scales every suite's run count (e.g. 10
 * for a long hunt).
 */
export function fuzzParams<T>(numRuns: number): fc.Parameters<T> {
  const { FUZZ_SEED, FUZZ_PATH, FUZZ_RUNS } = process.env;
  return {
    numRuns: Math.max(1, Math.round(numRuns * Number(FUZZ_RUNS ?? 1))),
    ...(FUZZ_SEED === undefined ? {} : { seed: Number(FUZZ_SEED) }),
    ...(FUZZ_PATH === undefined ? {} : { path: FUZZ_PATH }),
    reporter: report,
  };
}

/** fast-check's report, with the counterexample printed short (a 384 KiB Buffer would fill the screen) and the replay command. */
function report<T>(run: fc.RunDetails<T>): void {
  if (!run.failed) return;
  const replay = `FUZZ_SEED=${run.seed} FUZZ_PATH="${run.counterexamplePath ?? ''}"`;
  const cause = run.errorInstance instanceof Error ? (run.errorInstance.stack ?? run.errorInstance.message) : String(run.errorInstance);
  throw new Error(`property failed after ${run.numRuns} runs (${run.numShrinks} shrinks); replay with ${replay}\ncounterexample: ${show(run.counterexample)}\n${cause}`);
}
