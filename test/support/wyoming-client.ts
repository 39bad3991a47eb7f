import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MAKE_TEST_VENV, testVenvPythonWith } from './test-venv';

const run = promisify(execFile);

/** The client the tests speak Wyoming with: the official library, as Home Assistant uses it. */
export const WYOMING_CLIENT = 'the official wyoming 1.10.2 (test virtualenv)';

/** The test virtualenv's python with the wyoming package, else undefined (the suite says it is skipped). */
export function wyomingPython(): string | undefined {
  return testVenvPythonWith(['wyoming']);
}

export const NO_WYOMING = `skipped: no wyoming package in the test virtualenv (run: ${MAKE_TEST_VENV})`;

/** Runs one action of test/support/wyoming_client.py against 127.0.0.1:port; its JSON answer. */
export async function wyoming<T = Record<string, unknown>>(python: string, port: number, command: Record<string, unknown>): Promise<T> {
  const { stdout } = await run(python, [join(__dirname, 'wyoming_client.py'), String(port), JSON.stringify(command)], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  return JSON.parse(stdout) as T;
}

/** Collapses runs of the same event type: [audio-start, audio-chunk ×N, audio-stop] → [audio-start, audio-chunk, audio-stop]. */
export function shape(events: string[]): string[] {
  return events.filter((e, i) => e !== events[i - 1]);
}
