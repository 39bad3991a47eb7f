import type { NodeDef } from 'node-red';
import type { Pace } from '../../lib/audio-io/wav-file-input';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';

export interface MicInConfig extends NodeDef {
  version?: number;
  /** 'device': the sound card's input; 'wav': a WAV file, for demos and tests. */
  source: 'device' | 'wav';
  /** The sound-card config node (source 'device'). */
  card: string;
  wavPath: string;
  pace: Pace;
  /** Start listening on deploy (device) / play the file on deploy (wav). */
  autoStart: boolean;
  frameMs: number;
  /** Remove what the same card's speaker plays from the capture (device source only). */
  echoCancel: boolean;
}

export const DEFAULTS: Omit<MicInConfig, keyof NodeDef> = {
  source: 'device',
  card: '',
  wavPath: '',
  pace: 'realtime',
  autoStart: true,
  frameMs: 20,
  echoCancel: true,
};

export const MIGRATIONS: Migration<MicInConfig>[] = [withDefaults<MicInConfig>(DEFAULTS)];
