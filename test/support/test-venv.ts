import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** How to make the test virtualenv, for the messages of whatever needs it. */
export const MAKE_TEST_VENV = 'bash scripts/test-models.sh';

/**
 * The test virtualenv scripts/test-models.sh makes (the judge, the official Piper):
 * $RV_TEST_VENV, else <XDG cache>/realtime-voice/test-venv, the script's own default.
 */
export function testVenv(): string {
  return process.env.RV_TEST_VENV || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'realtime-voice', 'test-venv');
}

/** The test virtualenv's python, or undefined when the virtualenv was not made. */
export function testVenvPython(): string | undefined {
  const python = join(testVenv(), process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
  return existsSync(python) ? python : undefined;
}

/**
 * The test virtualenv's python when every module named can be imported in it,
 * else undefined. The modules are looked up, not imported: fast enough for a
 * skip decision.
 */
export function testVenvPythonWith(modules: string[]): string | undefined {
  const python = testVenvPython();
  if (!python) return undefined;
  // A JSON array of strings is a Python list literal.
  const check = `import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ${JSON.stringify(modules)}))`;
  try {
    execFileSync(python, ['-c', check], { stdio: 'ignore' });
    return python;
  } catch {
    return undefined;
  }
}
