import { existsSync, readFileSync, renameSync } from 'node:fs';
import { CodedError } from '../coded-error';
import { removeStaleTemps, writeFileAtomic } from './atomic-write';
import { cosine, weightedMean } from './vectors';

export interface Profile {
  /** Mean unit-length embedding of every enrolment sample. */
  embedding: number[];
  samples: number;
  updated: string;
}

interface StoreFile {
  version: 1;
  /** Embeddings only compare within one model: a new model needs new enrolments. */
  model: string;
  profiles: Record<string, Profile>;
}

/** Longer names are refused: a name is a label in a list, and the admin API takes it in its URL. */
export const MAX_NAME_LENGTH = 100;

/** Throws BAD_NAME unless `name` can name a voice. */
export function checkName(name: string): void {
  if (!name.trim()) throw new CodedError('a voice needs a name', 'BAD_NAME', 'no name');
  if (name.length > MAX_NAME_LENGTH) throw new CodedError(`a voice name is at most ${MAX_NAME_LENGTH} characters (got ${name.length})`, 'BAD_NAME', 'name too long');
}

/**
 * Enrolled voices, kept in a JSON file in the Node-RED user directory (node
 * context is wiped on redeploy). Every change is written to disk first
 * (atomically, see atomic-write.ts) and only then taken in memory: when the
 * disk is full or read-only the change fails with PROFILES_NOT_SAVED and the
 * voices in memory stay those on disk.
 */
export class ProfileStore {
  private data: StoreFile;
  /** Set when the file on disk could not be read: why, and where it was moved. */
  readonly problem: string | undefined;

  constructor(
    private readonly path: string,
    private readonly model: string,
  ) {
    removeStaleTemps(path);
    const loaded = this.load();
    this.data = loaded.data;
    this.problem = loaded.problem;
  }

  private load(): { data: StoreFile; problem?: string } {
    const empty: StoreFile = { version: 1, model: this.model, profiles: {} };
    if (!existsSync(this.path)) return { data: empty };
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as StoreFile;
      if (parsed.version !== 1 || typeof parsed.profiles !== 'object') throw new Error('not a voiceprint profile file');
      if (parsed.model !== this.model) {
        return { data: empty, problem: `profiles were made with another model (${parsed.model}); enrol again` };
      }
      return { data: parsed };
    } catch (err) {
      // Keep the broken file for inspection and start afresh rather than refuse to run.
      const why = `${this.path} was unreadable (${(err as Error).message})`;
      const aside = `${this.path}.corrupt-${Date.now()}`;
      try {
        renameSync(this.path, aside);
      } catch (moveErr) {
        // A read-only disk: leave the file as it is (saving will fail too, and say why).
        return { data: empty, problem: `${why}; could not move it aside (${(moveErr as NodeJS.ErrnoException).code ?? (moveErr as Error).message})` };
      }
      return { data: empty, problem: `${why}; moved to ${aside}` };
    }
  }

  /** Writes `profiles` to disk, then takes them: a failed write changes nothing. */
  private commit(profiles: Record<string, Profile>): void {
    const next: StoreFile = { ...this.data, profiles };
    try {
      writeFileAtomic(this.path, JSON.stringify(next, null, 1));
    } catch (err) {
      throw notSaved(this.path, err as NodeJS.ErrnoException);
    }
    this.data = next;
  }

  /** A copy of the profiles with one set or removed (defineProperty: assigning "__proto__" would replace the prototype). */
  private withProfile(name: string, profile: Profile | undefined): Record<string, Profile> {
    const copy: Record<string, Profile> = {};
    for (const [k, v] of Object.entries(this.data.profiles)) {
      if (k !== name) Object.defineProperty(copy, k, { value: v, enumerable: true, configurable: true, writable: true });
    }
    if (profile) Object.defineProperty(copy, name, { value: profile, enumerable: true, configurable: true, writable: true });
    return copy;
  }

  /** Whether a voice of that name is enrolled. */
  has(name: string): boolean {
    return this.profile(name) !== undefined;
  }

  /** Own entries only: a voice named "__proto__" or "constructor" is a name like any other. */
  private profile(name: string): Profile | undefined {
    return Object.hasOwn(this.data.profiles, name) ? this.data.profiles[name] : undefined;
  }

  names(): string[] {
    return Object.keys(this.data.profiles).sort();
  }

  /** Adds samples to a voice (creating it), averaging with what it had. */
  enrol(name: string, embedding: ArrayLike<number>): Profile {
    checkName(name);
    const old = this.profile(name);
    const parts = [{ v: embedding, weight: 1 }, ...(old ? [{ v: old.embedding, weight: old.samples }] : [])];
    const profile: Profile = { embedding: weightedMean(parts), samples: (old?.samples ?? 0) + 1, updated: new Date().toISOString() };
    this.commit(this.withProfile(name, profile));
    return profile;
  }

  remove(name: string): void {
    if (!this.profile(name)) {
      throw new CodedError(`no voice named "${name}" (enrolled: ${this.names().join(', ') || 'none'})`, 'UNKNOWN_NAME', 'unknown name');
    }
    this.commit(this.withProfile(name, undefined));
  }

  /** The closest enrolled voice, optionally among some names only. */
  best(embedding: ArrayLike<number>, among?: (name: string) => boolean): { name: string; score: number } | undefined {
    let best: { name: string; score: number } | undefined;
    for (const [name, p] of Object.entries(this.data.profiles)) {
      if (among && !among(name)) continue;
      const score = cosine(embedding, p.embedding);
      if (!best || score > best.score) best = { name, score };
    }
    return best;
  }
}

/** What the user sees when the profile file cannot be written: the cause in words, and that nothing changed. */
function notSaved(path: string, err: NodeJS.ErrnoException): CodedError {
  const cause: Record<string, [string, string]> = {
    ENOSPC: ['the disk is full', 'disk full'],
    EDQUOT: ['the disk quota is used up', 'disk full'],
    EROFS: ['the disk is read-only', 'disk read-only'],
    EACCES: ['Node-RED may not write there', 'no write access'],
    EPERM: ['Node-RED may not write there', 'no write access'],
  };
  const [why, statusText] = cause[err.code ?? ''] ?? [err.message, 'not saved'];
  const error = new CodedError(
    `voice profiles not saved to ${path}: ${why} (${err.code ?? 'error'}); the enrolled voices are unchanged. Free space or fix the folder's permissions, then try again`,
    'PROFILES_NOT_SAVED',
    statusText,
  );
  error.cause = err;
  return error;
}
