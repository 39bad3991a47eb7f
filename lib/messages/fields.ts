/** Who spoke, as a voiceprint node tags it on audio frames and asr copies it onto transcripts. */
export interface Speaker {
  name: string;
  score: number;
}

/**
 * What says which turn, conversation, voice and room a message belongs to.
 * A node copies these, and only these, from what it receives onto what it
 * makes for it: a 20 ms TTS frame does not carry the LLM chunk's `parts` or
 * the transcript's timings.
 */
export interface TurnFields {
  turnId?: string;
  conversationId?: string;
  speaker?: Speaker;
  /** Where the audio came from and where the answer should be heard (a satellite, a sound card). */
  room?: string;
}

export function isSpeaker(s: unknown): s is Speaker {
  return typeof s === 'object' && s !== null && typeof (s as Speaker).name === 'string' && typeof (s as Speaker).score === 'number';
}

/** voiceprint's name for speech that matched no enrolled voice. */
export const UNKNOWN_SPEAKER = 'unknown';

/** A speaker tag naming an enrolled voice. */
export function isKnownSpeaker(s: unknown): s is Speaker {
  return isSpeaker(s) && s.name !== '' && s.name !== UNKNOWN_SPEAKER;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** The turn fields of a received message, those that are present and well-formed. */
export function turnFields(msg: Record<string, unknown>): TurnFields {
  const fields: TurnFields = {};
  if (nonEmpty(msg.turnId)) fields.turnId = msg.turnId;
  if (nonEmpty(msg.conversationId)) fields.conversationId = msg.conversationId;
  if (isSpeaker(msg.speaker)) fields.speaker = { name: msg.speaker.name, score: msg.speaker.score };
  if (nonEmpty(msg.room)) fields.room = msg.room;
  return fields;
}
