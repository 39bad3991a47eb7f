/** What a voiceprint node upstream puts on audio frames. */
export interface Speaker {
  name: string;
  score: number;
}

/**
 * Who was tagged on the audio, by stream position. A voiceprint node tags the
 * frames of an utterance once it has decided (often mid-utterance) and leaves
 * silence untagged, so a transcript takes the latest tag heard during its
 * utterance. Only changes are kept, and only the last few.
 */
export class SpeakerTimeline {
  private changes: { pos: number; speaker: Speaker | undefined }[] = [];

  constructor(private readonly keep = 64) {}

  /** The frame starting at `pos` carried `speaker` (or no tag). */
  note(pos: number, speaker: Speaker | undefined): void {
    const tag = isSpeaker(speaker) ? { name: speaker.name, score: speaker.score } : undefined;
    const last = this.changes.at(-1)?.speaker;
    if (last?.name === tag?.name && last?.score === tag?.score) return;
    this.changes.push({ pos, speaker: tag });
    if (this.changes.length > this.keep) this.changes.shift();
  }

  /** The latest speaker tagged on any audio from `start` to `end`. */
  during(start: number, end: number): Speaker | undefined {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      const { pos, speaker } = this.changes[i];
      const until = this.changes[i + 1]?.pos ?? Infinity;
      if (speaker && pos < end && until > start) return speaker;
    }
    return undefined;
  }

  clear(): void {
    this.changes = [];
  }
}

function isSpeaker(s: unknown): s is Speaker {
  return typeof s === 'object' && s !== null && typeof (s as Speaker).name === 'string' && typeof (s as Speaker).score === 'number';
}
