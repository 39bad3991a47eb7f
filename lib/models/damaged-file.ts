import { relative, sep } from 'node:path';
import { CATALOG } from './catalog';
import { modelsDir } from './models-dir';

/**
 * The next step for a model file that is there but cannot be used (cut short
 * by a failed download, overwritten, the wrong kind): a catalog model is
 * pulled again (pull replaces a file that fails its checksum), any other
 * file must be replaced by the user.
 */
export function damagedFileHint(path: string): string {
  const inside = relative(modelsDir(), path);
  const name = inside.split(sep)[0];
  if (!inside.startsWith('..') && CATALOG.some((e) => e.name === name)) return `download it again with "npx realtime-voice models pull ${name}", then deploy`;
  return 'download it again or choose another file, then deploy';
}
