import type { NodeDef } from 'node-red';
import type { Service } from '../../lib/wyoming/info';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';

export interface WyomingInConfig extends NodeDef {
  version?: number;
  /** The wyoming-server config node. */
  server: string;
  /** Which requests this node sends into the flow: asr (transcribe + audio), tts (synthesize), handle (transcript for the agent). */
  service: Service;
}

export const DEFAULTS: Omit<WyomingInConfig, keyof NodeDef> = {
  server: '',
  service: 'asr',
};

export const MIGRATIONS: Migration<WyomingInConfig>[] = [withDefaults<WyomingInConfig>(DEFAULTS)];
