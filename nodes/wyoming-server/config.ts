import type { NodeDef } from 'node-red';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';

export interface WyomingServerConfig extends NodeDef {
  version?: number;
  port: number;
  /** 127.0.0.1 = this machine only; 0.0.0.0 for Home Assistant on another one. */
  host: string;
  /** The services `describe` announces and the server takes requests for. */
  asr: boolean;
  tts: boolean;
  handle: boolean;
  /** The conversation agent's name in Home Assistant (also the Zeroconf name). */
  agentName: string;
  /** msg.room of the flow's messages for Home Assistant's requests (added in version 2). */
  room: string;
  /** Comma-separated language codes of the agent (and of a recogniser whose model does not name its own). */
  languages: string;
  zeroconf: boolean;
  /** Seconds a request waits for the flow's answer once the client's part is complete. */
  timeout: number;
}

export const DEFAULTS: Omit<WyomingServerConfig, keyof NodeDef> = {
  port: 10700,
  host: '127.0.0.1',
  asr: true,
  tts: true,
  handle: true,
  agentName: 'Node-RED',
  room: 'home-assistant',
  languages: 'en',
  zeroconf: false,
  timeout: 60,
};

export const MIGRATIONS: Migration<WyomingServerConfig>[] = [
  withDefaults<WyomingServerConfig>(DEFAULTS),
  // Version 1 had no room: its requests were in every room, so any room's barge-in cut them.
  { version: 2, up: (c) => ({ ...c, room: typeof c.room === 'string' && c.room.trim() ? c.room.trim() : DEFAULTS.room }) },
];
