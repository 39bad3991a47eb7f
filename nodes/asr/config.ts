import type { NodeDef } from 'node-red';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';
import { VAD_DEFAULTS } from '../../lib/vad/silero-vad';

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
  vadThreshold: VAD_DEFAULTS.threshold,
  minSpeech: VAD_DEFAULTS.minSpeech,
  minSilence: VAD_DEFAULTS.minSilence,
  maxSpeech: VAD_DEFAULTS.maxSpeech,
  pauseDuringPrefill: false,
};

/** Steps that bring a saved config up to date (see lib/nodered/migrate.ts). */
export const MIGRATIONS: Migration<AsrConfig>[] = [withDefaults<AsrConfig>(DEFAULTS)];
