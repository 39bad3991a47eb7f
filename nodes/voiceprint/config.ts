import type { NodeDef } from 'node-red';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';
import type { VoiceprintMode } from './controller';

export interface VoiceprintConfig extends NodeDef {
  version?: number;
  mode: VoiceprintMode;
  /** Speaker-embedding .onnx; empty = the first installed from the catalog. */
  model: string;
  vadModel: string;
  threshold: number;
  decisionSeconds: number;
  selfName: string;
}

export const DEFAULTS: Omit<VoiceprintConfig, keyof NodeDef> = {
  mode: 'tag',
  model: '',
  vadModel: '',
  threshold: 0.6,
  decisionSeconds: 0.5,
  selfName: 'assistant',
};

/** Steps that bring a saved config up to date (see lib/nodered/migrate.ts). */
export const MIGRATIONS: Migration<VoiceprintConfig>[] = [withDefaults<VoiceprintConfig>(DEFAULTS)];
