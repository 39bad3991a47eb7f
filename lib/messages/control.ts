/**
 * The control wire: small JSON messages that travel on every node's control
 * output, separate from audio and text so that a barge-in never waits behind
 * a queue of audio frames. See docs/messages.md for the contract.
 */

/** Bumped when a field changes meaning; receivers reject versions they do not know. */
export const CONTROL_VERSION = 1;

export const CONTROL_TYPES = [
  'interrupt',
  'speech-start',
  'speech-end',
  'pause',
  'resume',
  'tts-start',
  'tts-end',
  'flush',
  'mute',
  'unmute',
] as const;

export type ControlType = (typeof CONTROL_TYPES)[number];

export interface ControlPayload {
  /** Protocol version, always CONTROL_VERSION when we send. */
  v: number;
  type: ControlType;
  /** The conversation turn this event belongs to. */
  turnId: string;
  /** Wall-clock milliseconds (Date.now()) when the event happened. */
  ts: number;
  /** Node type that raised it, for debugging flows. */
  source?: string;
  /** tts-end: milliseconds of the turn's audio actually played. */
  playedMs?: number;
  /** tts-end: true when playback was cut by an interrupt or flush. */
  cut?: boolean;
  /** tts-end: the part of the reply text that was spoken, when known. */
  spokenText?: string;
  /** interrupt / flush: why (e.g. 'barge-in', 'user', 'stop'); speech-end: 'engine restarted' when the utterance was lost. */
  reason?: string;
  /** The room the event happened in (a browser satellite): its cancel rule then ends that room's turns only. */
  room?: string;
}

/** A Node-RED message carrying a control event. */
export interface ControlMessage {
  topic: 'control';
  control: ControlPayload;
  turnId: string;
  _msgid?: string;
  [key: string]: unknown;
}

export class ControlProtocolError extends Error {
  readonly code = 'BAD_CONTROL';
  constructor(message: string) {
    super(message);
    this.name = 'ControlProtocolError';
  }
}

export function makeControl(
  type: ControlType,
  turnId: string,
  extra: Partial<Omit<ControlPayload, 'v' | 'type' | 'turnId'>> = {},
): ControlMessage {
  const control: ControlPayload = { v: CONTROL_VERSION, type, turnId, ts: Date.now(), ...extra };
  return { topic: 'control', control, turnId };
}

/** True when the message looks like a control message (it may still be invalid). */
export function isControlMessage(msg: unknown): msg is { control: unknown } {
  return typeof msg === 'object' && msg !== null && 'control' in msg && (msg as { control: unknown }).control != null;
}

/**
 * Validates a received control message and returns its payload.
 * Throws ControlProtocolError with a readable reason otherwise.
 */
export function parseControl(msg: unknown): ControlPayload {
  if (!isControlMessage(msg)) throw new ControlProtocolError('msg.control is missing');
  const c = msg.control as Partial<ControlPayload>;
  if (typeof c !== 'object') throw new ControlProtocolError('msg.control must be an object');
  if (c.v !== CONTROL_VERSION) {
    throw new ControlProtocolError(`msg.control.v is ${String(c.v)}; this node speaks version ${CONTROL_VERSION}`);
  }
  if (!CONTROL_TYPES.includes(c.type as ControlType)) {
    throw new ControlProtocolError(`unknown control type "${String(c.type)}" (expected one of ${CONTROL_TYPES.join(', ')})`);
  }
  if (typeof c.turnId !== 'string' || c.turnId === '') {
    throw new ControlProtocolError('msg.control.turnId must be a non-empty string');
  }
  if (typeof c.ts !== 'number' || !Number.isFinite(c.ts)) {
    throw new ControlProtocolError('msg.control.ts must be a number (ms since epoch)');
  }
  if (c.room !== undefined && (typeof c.room !== 'string' || c.room === '')) {
    throw new ControlProtocolError('msg.control.room must be a non-empty string (the room the event belongs to) or absent');
  }
  // A dashboard's stop button in one room sets msg.room, as on every other message of that room.
  const room = (msg as { room?: unknown }).room;
  if (c.room === undefined && typeof room === 'string' && room !== '') return { ...(c as ControlPayload), room };
  return c as ControlPayload;
}

/** The turn id meaning every turn: a dashboard stop button knows no turn ids. */
export const ALL_TURNS = '*';

const CANCELLING: ReadonlySet<ControlType> = new Set(['interrupt', 'flush', 'speech-start']);

/** What the cancel rule needs of a control event. */
export type CancelEvent = Pick<ControlPayload, 'type' | 'turnId' | 'room'>;

/**
 * A turn's room and an event's room are the same place, or one of them names
 * none: a turn without a room (an announcement for all) is everywhere, and an
 * event without one (a single-room flow, a global stop) reaches every room.
 */
export function sameRoom(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

/**
 * The cancel rule, the one every node applies: which turns a control event
 * ends. `speech-start` of turn T is a barge-in: every turn but T (the user's
 * new one) ends. `interrupt` and `flush` end their turn, or every turn for
 * ALL_TURNS. Other types end nothing. An event naming a room ends only the
 * turns of that room (by `roomOf`) and those with none: a question in the
 * kitchen never cuts the answer playing in the lounge.
 */
export function cancels(c: CancelEvent, roomOf: (turnId: string) => string | undefined = () => undefined): (turnId: string) => boolean {
  if (!CANCELLING.has(c.type)) return () => false;
  const here = (id: string) => sameRoom(c.room, roomOf(id));
  if (c.type === 'speech-start') return (id) => id !== c.turnId && here(id);
  if (c.turnId === ALL_TURNS) return here;
  return (id) => id === c.turnId;
}

/** The one turn an interrupt or flush names (not ALL_TURNS): it is cancelled even before any of its messages arrived. */
export function namedTurn(c: CancelEvent): string | undefined {
  return (c.type === 'interrupt' || c.type === 'flush') && c.turnId !== ALL_TURNS ? c.turnId : undefined;
}
