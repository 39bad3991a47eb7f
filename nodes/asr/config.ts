import type { NodeDef } from 'node-red';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';

export interface AsrConfig extends NodeDef {
  version?: number;
  /** sherpa-onnx model folder; empty = the first recogniser installed from the catalog. */
  modelDir: string;
  /** Silero VAD .onnx; empty = the catalog's vad-silero. */
  vadModel: string;
  language: string;
  vadThreshold: number;
  minSpeech: number;
  minSilence: number;
  maxSpeech: number;
  pauseDuringPrefill: boolean;
}

export const DEFAULTS: Omit<AsrConfig, keyof NodeDef> = {
  modelDir: '',
  vadModel: '',
  language: '',
  vadThreshold: 0.5,
  minSpeech: 0.25,
  minSilence: 0.5,
  maxSpeech: 20,
  pauseDuringPrefill: false,
};

/** Steps that bring a saved config up to date (see lib/nodered/migrate.ts). */
export const MIGRATIONS: Migration<AsrConfig>[] = [withDefaults<AsrConfig>(DEFAULTS)];
