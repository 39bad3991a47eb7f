import { turnFields, type TurnFields } from '../../lib/messages';

/** What frames say about their audio that a transcript carries on: who spoke (a voiceprint node's tag) and where. */
type Tag = Pick<TurnFields, 'speaker' | 'room'>;

const sameTag = (a: Tag | undefined, b: Tag): boolean =>
  a !== undefined && a.room === b.room && a.speaker?.name === b.speaker?.name && a.speaker?.score === b.speaker?.score;

/**
 * Who was tagged on the audio, and in which room, by stream position. A
 * voiceprint node tags the frames of an utterance once it has decided (often
 * mid-utterance) and leaves silence untagged, so a transcript takes the latest
 * tag heard during its utterance. Only changes are kept, and only the last few.
 */
export class SpeakerTimeline {
  private changes: { pos: number; tag: Tag }[] = [];

  constructor(private readonly keep = 64) {}

  /** The frame starting at `pos` was this message. */
  note(pos: number, frame: Record<string, unknown>): void {
    const { speaker, room } = turnFields(frame);
    const tag: Tag = { ...(speaker ? { speaker } : {}), ...(room ? { room } : {}) };
    if (sameTag(this.changes.at(-1)?.tag, tag)) return;
    this.changes.push({ pos, tag });
    if (this.changes.length > this.keep) this.changes.shift();
  }

  /** The latest speaker tagged on any audio from `start` to `end`, and the latest room of that audio. */
  during(start: number, end: number): Tag {
    let speaker: Tag['speaker'];
    let room: Tag['room'];
    for (let i = this.changes.length - 1; i >= 0 && !(speaker && room); i--) {
      const { pos, tag } = this.changes[i];
      const until = this.changes[i + 1]?.pos ?? Infinity;
      if (pos >= end || until <= start) continue;
      speaker ??= tag.speaker;
      room ??= tag.room;
    }
    return { ...(speaker ? { speaker } : {}), ...(room ? { room } : {}) };
  }

  clear(): void {
    this.changes = [];
  }
}
