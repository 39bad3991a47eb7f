/**
 * The control wire: small JSON messages that travel on every node's second
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
  /** interrupt / flush: why (e.g. 'barge-in', 'user', 'stop'). */
  reason?: string;
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
  return c as ControlPayload;
}

/** Control types that end whatever the receiving node is doing for a turn. */
export function cancelsTurn(type: ControlType): boolean {
  return type === 'interrupt' || type === 'flush' || type === 'speech-start';
}
