import type { NodeDef } from 'node-red';
import type { BackendName } from '../../lib/audio-io/backend';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';

export interface SoundCardConfig extends NodeDef {
  version?: number;
  backend: BackendName;
  /** Device names as the backend lists them; '' = the system default. */
  input: string;
  output: string;
  sampleRate: number;
  frameMs: number;
}

export const DEFAULTS: Omit<SoundCardConfig, keyof NodeDef> = {
  backend: 'audify',
  input: '',
  output: '',
  sampleRate: 16000,
  frameMs: 20,
};

export const MIGRATIONS: Migration<SoundCardConfig>[] = [withDefaults<SoundCardConfig>(DEFAULTS)];
