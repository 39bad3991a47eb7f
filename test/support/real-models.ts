import { existsSync } from 'node:fs';
import { CATALOG } from '../../lib/models/catalog';
import { isInstalled, modelPath } from '../../lib/models/models-dir';

/**
 * The folder of an installed catalog model, or undefined: quality suites run
 * only where real models were pulled into $VOICE_MODELS_DIR.
 */
export function installedModel(name: string): string | undefined {
  const entry = CATALOG.find((e) => e.name === name);
  if (!entry || !isInstalled(entry)) return undefined;
  const dir = modelPath(entry);
  return existsSync(dir) ? dir : undefined;
}

export function firstInstalled(names: string[]): { name: string; dir: string } | undefined {
  for (const name of names) {
    const dir = installedModel(name);
    if (dir) return { name, dir };
  }
  return undefined;
}
