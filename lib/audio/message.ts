import { monoFormat, type AudioFormat } from './format';

/** An audio frame as it travels between nodes (docs/messages.md). */
export interface AudioMessage {
  payload: Buffer;
  audio: AudioFormat;
  turnId?: string;
  [key: string]: unknown;
}

export function audioMessage(pcm: Buffer, sampleRate: number, turnId?: string): AudioMessage {
  const msg: AudioMessage = { payload: pcm, audio: monoFormat(sampleRate) };
  if (turnId !== undefined) msg.turnId = turnId;
  return msg;
}
