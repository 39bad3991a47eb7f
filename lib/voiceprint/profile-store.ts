import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CodedError } from '../coded-error';
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

/**
 * Enrolled voices, kept in a JSON file in the Node-RED user directory (node
 * context is wiped on redeploy). Writes go to a temporary file first, then
 * rename: a crash never leaves half a file.
 */
export class ProfileStore {
  private data: StoreFile;
  /** Set when the file on disk could not be read: why, and where it was moved. */
  readonly problem: string | undefined;

  constructor(
    private readonly path: string,
    private readonly model: string,
  ) {
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
      const aside = `${this.path}.corrupt-${Date.now()}`;
      renameSync(this.path, aside);
      return { data: empty, problem: `${this.path} was unreadable (${(err as Error).message}); moved to ${aside}` };
    }
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 1));
    renameSync(tmp, this.path);
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
    if (!name.trim()) throw new CodedError('a voice needs a name', 'BAD_NAME', 'no name');
    const old = this.profile(name);
    const parts = [{ v: embedding, weight: 1 }, ...(old ? [{ v: old.embedding, weight: old.samples }] : [])];
    const profile: Profile = { embedding: weightedMean(parts), samples: (old?.samples ?? 0) + 1, updated: new Date().toISOString() };
    // defineProperty, not assignment: assigning "__proto__" would replace the object's prototype.
    Object.defineProperty(this.data.profiles, name, { value: profile, enumerable: true, configurable: true, writable: true });
    this.save();
    return profile;
  }

  remove(name: string): void {
    if (!this.profile(name)) {
      throw new CodedError(`no voice named "${name}" (enrolled: ${this.names().join(', ') || 'none'})`, 'UNKNOWN_NAME', 'unknown name');
    }
    delete this.data.profiles[name];
    this.save();
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
