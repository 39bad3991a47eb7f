import type { NodeDef } from 'node-red';
import type { Migration } from '../../lib/nodered/migrate';

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

/** Version 0 = saved before versioning: defaults filled, numbers typed as text made numbers. */
export const MIGRATIONS: Migration<PiperTtsConfig>[] = [
  {
    version: 1,
    up: (c) => {
      const out: Record<string, unknown> = { ...DEFAULTS, ...c };
      for (const [key, value] of Object.entries(DEFAULTS)) {
        if (typeof value === 'number') out[key] = Number(out[key] === '' ? value : out[key]);
      }
      return out as PiperTtsConfig & Record<string, unknown>;
    },
  },
];
