import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, sep } from 'node:path';

/** The folder holding this package's package.json (from lib/models or dist/lib/models). */
export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * How the user runs the `realtime-voice` command from a shell, for the next
 * steps that errors, statuses' help and the CLI print. In a checkout `npx`
 * finds the package's own bin in the current directory. Installed from the
 * palette the package sits in <userDir>/node_modules, where `npx` finds its
 * bin only when run from <userDir> (elsewhere it would look the name up on
 * the registry), so the command starts by going there.
 */
export function cliCommand(args: string, root = packageRoot()): string {
  const parts = root.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return `npx realtime-voice ${args}`;
  const home = homedir();
  const userDir = parts.slice(0, at).join(sep) || sep;
  // ~ reads shorter, but a shell expands it only unquoted.
  const shown = /\s/.test(userDir) ? JSON.stringify(userDir) : userDir === home || userDir.startsWith(home + sep) ? `~${userDir.slice(home.length)}` : userDir;
  return `cd ${shown} && npx realtime-voice ${args}`;
}

/** The command that installs one catalog model or bundle. */
export function pullCommand(name: string): string {
  return cliCommand(`models pull ${name}`);
}
