import { monoFormat, type AudioFormat } from '../audio/format';
import { int16ToBuffer } from '../audio/pcm';
import type { TurnFields } from './fields';

/** One short frame of PCM (10-30 ms), s16le, as every audio node sends it. */
export interface AudioFrameMessage extends TurnFields {
  /** Any other property (Node-RED's _msgid, a flow's own fields). */
  [key: string]: unknown;
  topic: 'audio';
  payload: Buffer;
  audio: AudioFormat;
  /** piper-tts: the sentence the frame speaks. */
  text?: string;
  /** piper-tts: the last frame of one input text. */
  chunkEnd?: boolean;
  /** piper-tts: the last frame of the reply. */
  complete?: boolean;
}

/** The end of a recording: an utterance in progress ends now. */
export interface FlushMessage {
  /** Any other property (Node-RED's _msgid, a flow's own fields). */
  [key: string]: unknown;
  topic: 'audio';
  flush: true;
  audio: AudioFormat;
}

/** A mono frame of these samples (their memory becomes the payload: no copy). */
export function audioFrame(samples: Int16Array, sampleRate: number, extra: Omit<AudioFrameMessage, 'topic' | 'payload' | 'audio'> = {}): AudioFrameMessage {
  return { ...extra, topic: 'audio', payload: int16ToBuffer(samples), audio: monoFormat(sampleRate) };
}

export function flushMessage(sampleRate: number): FlushMessage {
  return { topic: 'audio', flush: true, audio: monoFormat(sampleRate) };
}

export function isFlush(msg: Record<string, unknown>): boolean {
  return msg.flush === true;
}

/** True when the message has the shape of an audio frame (lib/audio/validate checks the details). */
export function isAudioFrame(msg: unknown): msg is AudioFrameMessage {
  const m = msg as Partial<AudioFrameMessage> | null;
  return typeof m === 'object' && m !== null && Buffer.isBuffer(m.payload) && typeof m.audio === 'object' && m.audio !== null;
}
