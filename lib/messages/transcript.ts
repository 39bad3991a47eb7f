import type { TurnFields } from './fields';

/** What asr heard: partial while the user speaks, then the final text of the utterance. */
export interface TranscriptMessage extends TurnFields {
  /** Any other property (Node-RED's _msgid, a flow's own fields). */
  [key: string]: unknown;
  topic: 'transcript';
  payload: string;
  partial: boolean;
  turnId: string;
  /** Wall-clock ms of the speech's start and end, and ms from its end to this text. */
  timings: { speechStart?: number; speechEnd?: number; recognitionMs: number };
}

export function transcript(text: string, partial: boolean, timings: TranscriptMessage['timings'], fields: TurnFields & { turnId: string }): TranscriptMessage {
  return { ...fields, topic: 'transcript', payload: text, partial, timings };
}

export function isTranscript(msg: unknown): msg is TranscriptMessage {
  const m = msg as Partial<TranscriptMessage> | null;
  return typeof m === 'object' && m !== null && m.topic === 'transcript' && typeof m.payload === 'string' && typeof m.partial === 'boolean';
}
