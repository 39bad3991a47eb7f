import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TESTDATA } from './paths';

/**
 * The shared clips with a reference transcript, as paths (trans.txt marks the others
 * "(transcript not available …)" or "(no speech …)").
 */
export function transcribedClips(): { path: string; file: string; reference: string }[] {
  return readFileSync(join(TESTDATA, 'trans.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .filter(([, , reference]) => reference && !reference.startsWith('('))
    .map(([file, , reference]) => ({ path: join(TESTDATA, file), file, reference }));
}
