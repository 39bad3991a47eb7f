import type { NodeDef } from 'node-red';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';
import { TURN_DEFAULTS } from '../../lib/turn/turn-end';
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
  /** turn-model: Smart Turn v3 decides, when installed (else silence); silence: minSilence of silence ends every utterance. */
  endOfTurn: 'turn-model' | 'silence';
  /** Turn model: seconds of silence that end a turn it hears as unfinished. */
  turnTimeout: number;
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
  endOfTurn: 'turn-model',
  turnTimeout: TURN_DEFAULTS.timeout,
};

/** Steps that bring a saved config up to date (see lib/nodered/migrate.ts). */
export const MIGRATIONS: Migration<AsrConfig>[] = [
  withDefaults<AsrConfig>(DEFAULTS),
  // Version 1 knew only silence: its flows get the turn model (when installed), as new nodes do.
  {
    version: 2,
    up: (c) => ({
      ...c,
      endOfTurn: c.endOfTurn === 'silence' ? 'silence' : 'turn-model',
      turnTimeout: Number(c.turnTimeout ?? TURN_DEFAULTS.timeout) || TURN_DEFAULTS.timeout,
    }),
  },
];
