import type { NodeDef } from 'node-red';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';

export interface WyomingOutConfig extends NodeDef {
  version?: number;
  /** The wyoming-server config node whose clients get the answers. */
  server: string;
}

export const DEFAULTS: Omit<WyomingOutConfig, keyof NodeDef> = {
  server: '',
};

export const MIGRATIONS: Migration<WyomingOutConfig>[] = [withDefaults<WyomingOutConfig>(DEFAULTS)];
