import type { NodeDef } from 'node-red';
import type { CardBackendName } from '../../lib/audio-io/backend';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';

export interface SoundCardConfig extends NodeDef {
  version?: number;
  backend: CardBackendName;
  /** Device names as the backend lists them; '' = the system default. */
  input: string;
  output: string;
  sampleRate: number;
  frameMs: number;
  /** Where the card is: mic-in tags its audio with it, speaker-out plays only that room's answers ('' = no room). The browser backend serves its page under this name. */
  room: string;
}

/** The browser backend's access token is a credential: not exported with the flow. */
export interface SoundCardCredentials {
  token?: string;
}

export const DEFAULTS: Omit<SoundCardConfig, keyof NodeDef> = {
  backend: 'audify',
  input: '',
  output: '',
  sampleRate: 16000,
  frameMs: 20,
  room: '',
};

export const MIGRATIONS: Migration<SoundCardConfig>[] = [
  withDefaults<SoundCardConfig>(DEFAULTS),
  // Version 2 added the room (browser cards, and msg.room for any card): older cards have none.
  { version: 2, up: (c) => ({ ...c, room: typeof c.room === 'string' ? c.room.trim() : '' }) },
];
