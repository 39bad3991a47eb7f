/**
 * What the asr worker does with a stream of 16 kHz audio: the VAD finds each
 * utterance, the recogniser turns it into text. VAD events go out the moment
 * they happen, before any decoding (speech-start is the barge-in signal).
 * While paused, the VAD keeps listening but recogniser work waits, in order,
 * for resume: the LLM's prompt evaluation gets the CPU, barge-in stays instant.
 */
import { AudioHistory } from '../audio/history';
import { MAX_FRAME_SECONDS } from '../audio/format';
import type { TurnCheck, TurnEndEvent, TurnEvent } from '../turn/turn-end';
import { VAD_SAMPLE_RATE, type VadSettings } from '../vad/silero-vad';
import type { Recognizer } from './recognizers';

/** Positions count 16 kHz samples from the first one the engine received. */
export type AsrEvent =
  | { type: 'speech-start'; utterance: number; start: number; at: number }
  | {
      type: 'speech-end';
      utterance: number;
      start: number;
      end: number;
      at: number;
      reason: TurnEndEvent['reason'];
      /** The turn model's last verdict on the turn, when it was asked. */
      turn?: TurnCheck;
    }
  | { type: 'partial'; utterance: number; text: string; /** audio heard up to here */ at: number }
  | {
      type: 'final';
      utterance: number;
      text: string;
      start: number;
      end: number;
      /** when speech-end was decided */
      at: number;
      /** the final decode alone */
      decodeMs: number;
      /** all recogniser work on the utterance (partials included) */
      computeMs: number;
    };

export type Emit = (e: AsrEvent) => void;

/** Where utterances start and end: SileroVad (silence ends them) or TurnEnd (the turn model does). */
export interface Segmenter {
  readonly settings: VadSettings;
  readonly position: number;
  push(samples: Float32Array): TurnEvent[] | Promise<TurnEvent[]>;
  flush(): TurnEvent[];
}

type Task =
  | { kind: 'begin'; utterance: number }
  | { kind: 'accept'; utterance: number; samples: Float32Array; at: number }
  | { kind: 'finish'; utterance: number; end: TurnEndEvent };

export class AsrSession {
  private nextUtterance = 1;
  private open: number | undefined;
  private paused = false;
  private held: Task[] = [];
  /** Audio kept for a streaming recogniser: the VAD reports speech after its onset. */
  private readonly history: AudioHistory | undefined;
  private computeMs = 0;
  /** The streaming recogniser's latest text, and what of it was sent. */
  private partial = { utterance: 0, text: '', sent: '', at: 0 };

  constructor(
    private readonly vad: Segmenter,
    private readonly recognizer?: Recognizer,
  ) {
    // The onset is dated about min speech + 100 ms back, from the end of a frame of up to MAX_FRAME_SECONDS.
    if (recognizer?.streaming) this.history = new AudioHistory(VAD_SAMPLE_RATE, MAX_FRAME_SECONDS + vad.settings.minSpeech + 1);
  }

  async audio(samples: Float32Array, emit: Emit): Promise<void> {
    this.history?.push(samples);
    this.handle(await this.vad.push(samples), samples, emit);
  }

  /** The end of the stream: an utterance in progress ends now. */
  flush(emit: Emit): void {
    this.handle(this.vad.flush(), undefined, emit);
  }

  pause(): void {
    this.paused = true;
  }

  /** Does the held recogniser work; of the partial results only the latest is sent. */
  resume(emit: Emit): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const task of held) this.run(task, emit, false);
    this.sendPartial(emit);
  }

  private handle(events: TurnEvent[], samples: Float32Array | undefined, emit: Emit): void {
    const streaming = this.recognizer?.streaming ?? false;
    let fed = false;
    for (const e of events) {
      if (e.type === 'speech-start') {
        const utterance = (this.open = this.nextUtterance++);
        emit({ type: 'speech-start', utterance, start: e.start, at: e.at });
        if (!streaming) continue;
        this.schedule({ kind: 'begin', utterance }, emit);
        this.schedule({ kind: 'accept', utterance, samples: this.history!.since((e.start / VAD_SAMPLE_RATE) * 1000), at: e.at }, emit);
        fed = true;
        continue;
      }
      const utterance = this.open ?? this.nextUtterance++;
      this.open = undefined;
      emit({ type: 'speech-end', utterance, start: e.start, end: e.end, at: e.at, reason: e.reason, ...(e.turn ? { turn: e.turn } : {}) });
      if (!this.recognizer) continue;
      if (streaming && samples && !fed) this.schedule({ kind: 'accept', utterance, samples, at: e.at }, emit);
      fed = true;
      this.schedule({ kind: 'finish', utterance, end: e }, emit);
    }
    if (streaming && samples && !fed && this.open !== undefined) {
      this.schedule({ kind: 'accept', utterance: this.open, samples, at: this.vad.position }, emit);
    }
  }

  private schedule(task: Task, emit: Emit): void {
    if (this.paused) this.held.push(task);
    else this.run(task, emit, true);
  }

  private run(task: Task, emit: Emit, live: boolean): void {
    const recognizer = this.recognizer!;
    const t0 = performance.now();
    switch (task.kind) {
      case 'begin':
        recognizer.begin();
        this.computeMs = 0;
        this.partial = { utterance: task.utterance, text: '', sent: '', at: 0 };
        break;
      case 'accept':
        this.partial.text = recognizer.accept(task.samples);
        this.partial.at = task.at;
        this.computeMs += performance.now() - t0;
        if (live) this.sendPartial(emit);
        break;
      case 'finish': {
        const text = recognizer.finish(task.end.samples);
        const decodeMs = performance.now() - t0;
        const { start, end, at } = task.end;
        emit({ type: 'final', utterance: task.utterance, text, start, end, at, decodeMs, computeMs: this.computeMs + decodeMs });
        this.computeMs = 0;
      }
    }
  }

  private sendPartial(emit: Emit): void {
    const { utterance, text, sent, at } = this.partial;
    // Once speech-end is out, the final is the next word on the utterance.
    if (!text || text === sent || utterance !== this.open) return;
    this.partial.sent = text;
    emit({ type: 'partial', utterance, text, at });
  }
}
