import { Framer } from '../audio/framer';

/** Audio of one turn, already at the device rate. */
export interface PlaybackItem {
  turnId: string;
  samples: Int16Array;
  /** The sentence these samples speak (piper-tts frames carry it). */
  text?: string;
  /** Last audio of the turn: play out what is left and report the end. */
  complete?: boolean;
}

export interface TurnReport {
  turnId: string;
  /** Audio of the turn that reached the device. */
  playedMs: number;
  /** True when an interrupt or flush cut the turn. */
  cut: boolean;
  /** What the listener heard: whole sentences, then the leading words of a cut one. */
  spokenText?: string;
  /** From the turn's first audio arriving to the device taking it. */
  waitedMs: number | null;
  /** Times the device ran dry in the middle of the turn (audio arrived too slowly). */
  underruns: number;
}

export interface PlaybackEvents {
  started(turnId: string, waitedMs: number): void;
  ended(report: TurnReport): void;
  /** Every buffer the device takes, in order: the echo canceller's reference. */
  played?(samples: Int16Array): void;
}

export interface PlaybackSink {
  write(samples: Int16Array): void;
  clear(): void;
}

/** Seconds of audio kept while no device is attached. */
const MAX_BACKLOG_S = 30;

interface Sentence {
  text: string;
  start: number;
  end: number;
}

interface Turn {
  id: string;
  framer: Framer;
  sentences: Sentence[];
  queuedSamples: number;
  playedSamples: number;
  firstQueuedAt: number;
  started: boolean;
  complete: boolean;
  /** The device has played all the turn's audio so far; more may come. */
  dry: boolean;
  underruns: number;
  waitedMs: number | null;
  timer?: NodeJS.Timeout;
}

interface Buffer {
  turn: Turn;
  samples: Int16Array;
  /** Samples that are audio, not padding. */
  valid: number;
  last: boolean;
}

/** How long a reply from piper-tts may pause (waiting for its LLM) before it counts as over without its end mark. */
const SPOKEN_REPLY_IDLE_MS = 30_000;

/**
 * The speaker's queue. Audio arrives per turn in frames of any size; the
 * device wants fixed buffers. Only `lead` buffers sit in the device's own
 * queue at a time, so that an interrupt drops everything else in JavaScript
 * and the device falls silent within those buffers. Each buffer the device
 * takes is counted against its turn: that is how tts-start, tts-end and the
 * spoken part of a cut reply are known.
 */
export class PlaybackQueue {
  private readonly turns = new Map<string, Turn>();
  private pending: Buffer[] = [];
  private inFlight: Buffer[] = [];
  private sink: PlaybackSink | undefined;

  constructor(
    /** The device's rate and buffer size: fixed by the sound card's settings, known before it opens. */
    private readonly format: { sampleRate: number; framesPerBuffer: number },
    private readonly events: PlaybackEvents,
    private readonly options: { lead: number; idleEndMs: number } = { lead: 2, idleEndMs: 1000 },
  ) {}

  /** Points the queue at a (re)opened device stream; what the old one held is gone. */
  attach(sink: PlaybackSink | undefined): void {
    if (this.sink && this.inFlight.length) this.pending.unshift(...this.inFlight);
    this.inFlight = [];
    this.sink = sink;
    this.refill();
  }

  /** Queues audio; it plays once a device is attached (the card may still be opening). */
  enqueue(item: PlaybackItem): void {
    let turn = this.turns.get(item.turnId);
    if (!turn) {
      turn = { id: item.turnId, framer: new Framer(this.format.framesPerBuffer), sentences: [], queuedSamples: 0, playedSamples: 0, firstQueuedAt: performance.now(), started: false, complete: false, dry: false, underruns: 0, waitedMs: null };
      this.turns.set(item.turnId, turn);
    }
    if (turn.complete) return;
    clearTimeout(turn.timer);
    if (turn.dry) turn.underruns++;
    turn.dry = false;
    this.trackSentence(turn, item);
    for (const samples of turn.framer.push(item.samples)) this.pending.push({ turn, samples, valid: samples.length, last: false });
    if (item.complete) this.closeTurn(turn);
    this.refill();
    if (!this.sink) this.dropBacklog();
  }

  /**
   * With no device (a card still missing), audio would pile up for ever: past
   * MAX_BACKLOG_S the oldest turns are cut, so a stale announcement is never
   * played minutes late when the device comes back.
   */
  private dropBacklog(): void {
    const limit = MAX_BACKLOG_S * this.format.sampleRate;
    while (this.pending.length * this.format.framesPerBuffer > limit) {
      const oldest = this.pending[0].turn.id;
      this.cancel((id) => id === oldest);
    }
  }

  /** Stops the matching turns at once. Returns the ids cut. */
  cancel(match: (turnId: string) => boolean): string[] {
    const cut = [...this.turns.values()].filter((t) => match(t.id));
    if (!cut.length) return [];
    const gone = new Set(cut);
    this.pending = this.pending.filter((b) => !gone.has(b.turn));
    if (this.inFlight.some((b) => gone.has(b.turn))) {
      this.sink?.clear();
      this.pending.unshift(...this.inFlight.filter((b) => !gone.has(b.turn)));
      this.inFlight = [];
    }
    for (const t of cut) this.finish(t, true);
    this.refill();
    return cut.map((t) => t.id);
  }

  /** The device took the oldest buffer written to it. */
  onPlayed(): void {
    const b = this.inFlight.shift();
    if (!b) return;
    this.events.played?.(b.samples);
    const turn = b.turn;
    if (!turn.started) {
      turn.started = true;
      turn.waitedMs = performance.now() - turn.firstQueuedAt;
      this.events.started(turn.id, turn.waitedMs);
    }
    turn.playedSamples += b.valid;
    this.refill();
    if (b.last) {
      // The device has just taken the last buffer; it ends one buffer later.
      turn.timer = setTimeout(() => this.finish(turn, false), this.bufferMs());
    } else if (!this.holds(turn)) {
      turn.dry = true;
      // Audio with sentence texts comes from piper-tts, which marks the end: a pause is a slow LLM
      // (the next sentence is coming), so wait long. Other audio may never be marked: it ends when quiet.
      turn.timer = setTimeout(
        () => {
          this.closeTurn(turn);
          this.refill();
        },
        turn.sentences.length ? SPOKEN_REPLY_IDLE_MS : this.options.idleEndMs,
      );
    }
  }

  close(): void {
    for (const t of this.turns.values()) clearTimeout(t.timer);
    this.turns.clear();
    this.pending = [];
    this.inFlight = [];
  }

  private closeTurn(turn: Turn): void {
    turn.complete = true;
    const rest = turn.framer.flush();
    if (rest) {
      const padded = new Int16Array(turn.framer.frameSamples);
      padded.set(rest);
      this.pending.push({ turn, samples: padded, valid: rest.length, last: true });
      return;
    }
    const lastQueued = [...this.pending].reverse().find((b) => b.turn === turn) ?? [...this.inFlight].reverse().find((b) => b.turn === turn);
    if (lastQueued) lastQueued.last = true;
    else this.finish(turn, false);
  }

  private refill(): void {
    const sink = this.sink;
    if (!sink) return;
    while (this.inFlight.length < this.options.lead && this.pending.length) {
      const b = this.pending.shift() as Buffer;
      this.inFlight.push(b);
      sink.write(b.samples);
    }
  }

  private finish(turn: Turn, cut: boolean): void {
    if (this.turns.get(turn.id) !== turn) return;
    clearTimeout(turn.timer);
    this.turns.delete(turn.id);
    const rate = this.format.sampleRate;
    this.events.ended({
      turnId: turn.id,
      playedMs: (turn.playedSamples / rate) * 1000,
      cut,
      spokenText: spokenText(turn.sentences, turn.playedSamples),
      waitedMs: turn.waitedMs,
      underruns: turn.underruns,
    });
  }

  private holds(turn: Turn): boolean {
    return this.pending.some((b) => b.turn === turn) || this.inFlight.some((b) => b.turn === turn);
  }

  private trackSentence(turn: Turn, item: PlaybackItem): void {
    const start = turn.queuedSamples;
    turn.queuedSamples += item.samples.length;
    if (item.text === undefined) return;
    const last = turn.sentences[turn.sentences.length - 1];
    if (last && last.text === item.text && last.end === start) last.end = turn.queuedSamples;
    else turn.sentences.push({ text: item.text, start, end: turn.queuedSamples });
  }

  private bufferMs(): number {
    return (this.format.framesPerBuffer / this.format.sampleRate) * 1000;
  }
}

/**
 * The words the listener heard: sentences played to the end, then the share of
 * the cut sentence's words that matches the share of its audio played (speech
 * rate is even enough within one sentence for a history to be right).
 */
export function spokenText(sentences: Sentence[], playedSamples: number): string | undefined {
  if (!sentences.length) return undefined;
  const heard: string[] = [];
  for (const s of sentences) {
    if (playedSamples >= s.end) {
      heard.push(s.text);
      continue;
    }
    if (playedSamples > s.start) {
      const words = s.text.split(/\s+/).filter(Boolean);
      const share = (playedSamples - s.start) / (s.end - s.start);
      const n = Math.floor(words.length * share);
      if (n > 0) heard.push(words.slice(0, n).join(' '));
    }
    break;
  }
  return heard.join(' ');
}
