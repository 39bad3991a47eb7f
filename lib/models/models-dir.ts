import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CatalogEntry } from './catalog';

/** The user's cache directory, as each platform names it. */
function cacheDir(): string {
  if (process.platform === 'win32') return process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches');
  return process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
}

/** Where models live: $VOICE_MODELS_DIR, else <cache>/realtime-voice/models. */
export function modelsDir(): string {
  return process.env.VOICE_MODELS_DIR || join(cacheDir(), 'realtime-voice', 'models');
}

/** The folder holding one catalog model. */
export function modelPath(entry: Pick<CatalogEntry, 'name'>, dir = modelsDir()): string {
  return join(dir, entry.name);
}

/** Written after a model is fully installed; lists what the install put there. */
export const INSTALL_RECORD = '.installed.json';

/** What an install leaves in the model's folder (INSTALL_RECORD) so `verify` can check it later. */
export interface InstallRecord {
  name: string;
  files: { path: string; size: number; sha256: string | null }[];
}

export function isInstalled(entry: Pick<CatalogEntry, 'name'>, dir = modelsDir()): boolean {
  return existsSync(join(modelPath(entry, dir), INSTALL_RECORD));
}
