import type { NodeDef } from 'node-red';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';

export interface PiperTtsConfig extends NodeDef {
  version?: number;
  /** A voice .onnx path; empty = the first Piper voice installed from the catalog. */
  voicePath: string;
  speakerId: number;
  lengthScale: number;
  noiseScale: number;
  noiseW: number;
  sentenceSilence: number;
  frameMs: number;
  threads: number;
}

export const DEFAULTS: Omit<PiperTtsConfig, keyof NodeDef> = {
  voicePath: '',
  speakerId: 0,
  lengthScale: 1,
  noiseScale: 0.667,
  noiseW: 0.8,
  sentenceSilence: 0.2,
  frameMs: 20,
  threads: 1,
};

/** Steps that bring a saved config up to date (see lib/nodered/migrate.ts). */
export const MIGRATIONS: Migration<PiperTtsConfig>[] = [withDefaults<PiperTtsConfig>(DEFAULTS)];
