import type { NodeDef } from 'node-red';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';

export interface SpeakerOutConfig extends NodeDef {
  version?: number;
  /** 'device': the sound card's output; 'wav': a WAV file written at real-time pace. */
  sink: 'device' | 'wav';
  card: string;
  wavPath: string;
  /** Rate of the WAV file (sink 'wav'); a device plays at its card's rate. */
  wavRate: number;
}

export const DEFAULTS: Omit<SpeakerOutConfig, keyof NodeDef> = {
  sink: 'device',
  card: '',
  wavPath: '',
  wavRate: 16000,
};

export const MIGRATIONS: Migration<SpeakerOutConfig>[] = [withDefaults<SpeakerOutConfig>(DEFAULTS)];
