import type { AsrEvent, AsrInfo } from '../../lib/asr/asr-engine';
import type { TurnCheck } from '../../lib/turn/turn-end';
import { SPEECH_RATE } from '../../lib/audio/format';
import { AudioInlet } from '../../lib/audio/inlet';
import { validateAudioMessage } from '../../lib/audio/validate';
import {
  isControlMessage,
  isFlush,
  makeControl,
  metrics,
  newTurnId,
  parseControl,
  transcript,
  type ControlMessage,
  type ControlPayload,
  type MetricsMessage,
  type TranscriptMessage,
} from '../../lib/messages';
import { SpeakerTimeline } from './speakers';

export type EngineMethod = 'audio' | 'flush' | 'pause' | 'resume';

/** Hands work to the asr engine (in its worker); its events come back through onEvent as they happen. */
export type SendToEngine = (method: EngineMethod, samples: Float32Array | undefined, onEvent: (e: AsrEvent) => void) => Promise<unknown>;

export interface AsrOutputs {
  transcript(msg: TranscriptMessage): void;
  control(msg: ControlMessage): void;
  metrics(msg: MetricsMessage): void;
  status(kind: 'busy' | 'ready' | 'idle' | 'waiting' | 'failed', text: string): void;
  warn(text: string): void;
}

export interface AsrSettings {
  /** Honour pause / resume from llama-llm: recogniser work waits while the LLM evaluates its prompt. */
  pauseDuringPrefill: boolean;
  /** A pause without resume ends by itself after this long (a lost resume must not deafen the node). */
  maxPausedSeconds: number;
  /** Audio the engine may be behind by; beyond it frames are dropped (a model too slow for this machine). */
  maxBacklogSeconds: number;
}

/** Stream position ↔ wall clock: the frame that ended at sample `pos` arrived at `ms`. */
interface Anchor {
  ms: number;
  pos: number;
}

interface Utterance {
  turnId: string;
  start: number;
  detectedAt: number;
  speechStartWall: number;
  startSentAt: number;
  partials: number;
  firstPartialMs?: number;
  /** Where the speech was heard (the frames' msg.room), for its control events. */
  room?: string;
  end?: { end: number; at: number; wall: number; reason: string; decidedWall: number; turn?: TurnCheck };
}

const round = (x: number, places = 1) => Math.round(x * 10 ** places) / 10 ** places;

/**
 * The asr node's behaviour, free of Node-RED: audio frames in any format are
 * mixed to mono, resampled to 16 kHz and handed to the engine in order; its
 * events become messages: speech-start (a new turn: the barge-in signal) and
 * speech-end on the control wire, transcripts of that turn on output 1,
 * latency figures on output 3.
 */
export class AsrController {
  private readonly inlet = new AudioInlet(SPEECH_RATE);
  /** 16 kHz samples handed to the engine so far, and those not yet processed. */
  private position = 0;
  private inFlight = 0;
  private dropping = false;
  private latest: Anchor = { ms: Date.now(), pos: 0 };
  private readonly utterances = new Map<number, Utterance>();
  private readonly speakers = new SpeakerTimeline();
  private pauseTimer: NodeJS.Timeout | undefined;
  private info: AsrInfo | undefined;
  private reported: string | undefined;

  constructor(
    private readonly engine: SendToEngine,
    private readonly settings: AsrSettings,
    private readonly out: AsrOutputs,
  ) {}

  /** The engine has loaded. */
  ready(info: AsrInfo): void {
    this.info = info;
    this.out.status('ready', this.idleText());
  }

  /**
   * The engine crashed and restarts: the new one's stream clock starts at 0
   * and the utterances it was hearing are lost with it. Their turns end here
   * (speech-end, then their metrics), so nothing downstream waits for them.
   */
  restarted(): void {
    for (const [id, u] of this.utterances) {
      if (!u.end) this.out.control(makeControl('speech-end', u.turnId, { source: 'asr', reason: 'engine restarted', ...(u.room ? { room: u.room } : {}) }));
      this.finish(id, u, { words: 0, lost: 'engine restarted' });
    }
    this.position = 0;
    this.latest = { ms: Date.now(), pos: 0 };
    this.utterances.clear();
    this.speakers.clear();
  }

  /** One input message. Resolves once the engine has processed it; rejects (once per distinct failure) when it cannot. */
  handle(msg: Record<string, unknown>): Promise<void> | void {
    if (isControlMessage(msg)) return this.control(parseControl(msg));
    if (isFlush(msg)) return this.send('flush');
    const { format, pcm } = validateAudioMessage(msg);
    const samples = this.inlet.toFloat(pcm, format.sampleRate, format.channels);
    if (samples.length === 0) return;
    if (this.overloaded()) return;
    this.speakers.note(this.position, msg);
    this.position += samples.length;
    this.inFlight += samples.length;
    const anchor = (this.latest = { ms: Date.now(), pos: this.position });
    const n = samples.length;
    return this.send('audio', samples, anchor).finally(() => {
      this.inFlight -= n;
    });
  }

  /** Node closing: no timer may outlive it. */
  close(): void {
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
  }

  private control(c: ControlPayload): Promise<void> | void {
    if (!this.settings.pauseDuringPrefill) return;
    if (c.type === 'pause') {
      const first = !this.pauseTimer;
      clearTimeout(this.pauseTimer);
      this.pauseTimer = setTimeout(() => {
        this.out.warn(`no resume within ${this.settings.maxPausedSeconds} s of pause; recognising again`);
        void this.resume()?.catch(() => undefined);
      }, this.settings.maxPausedSeconds * 1000);
      this.out.status('waiting', 'paused');
      if (first) return this.send('pause');
    } else if (c.type === 'resume') {
      return this.resume();
    }
  }

  private resume(): Promise<void> | undefined {
    if (!this.pauseTimer) return undefined;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.out.status('ready', this.idleText());
    return this.send('resume');
  }

  /** Past the backlog limit, frames are dropped with one warning per episode; the node catches up by itself. */
  private overloaded(): boolean {
    const limit = this.settings.maxBacklogSeconds * SPEECH_RATE;
    if (this.dropping && this.inFlight < limit / 2) {
      this.dropping = false;
      this.out.status('ready', this.idleText());
    } else if (!this.dropping && this.inFlight > limit) {
      this.dropping = true;
      this.out.warn(`recognition is more than ${this.settings.maxBacklogSeconds} s behind the audio: dropping frames (use a smaller model)`);
      this.out.status('waiting', 'falling behind');
    }
    return this.dropping;
  }

  private async send(method: EngineMethod, samples?: Float32Array, anchor?: Anchor): Promise<void> {
    try {
      await this.engine(method, samples, (e) => this.event(e, anchor ?? this.latest));
      this.reported = undefined;
    } catch (err) {
      // A model that failed to load fails every frame: the Catch node hears it once, the status keeps saying it.
      const text = (err as Error).message;
      if (text === this.reported) return;
      this.reported = text;
      throw err;
    }
  }

  private event(e: AsrEvent, anchor: Anchor): void {
    const wall = (pos: number) => Math.round(anchor.ms - ((anchor.pos - pos) / SPEECH_RATE) * 1000);
    if (e.type === 'speech-start') {
      const turnId = newTurnId();
      // The room of the speech scopes the barge-in: a question in the kitchen does not cut the lounge's answer.
      const { room } = this.speakers.during(e.start, e.at);
      this.utterances.set(e.utterance, { turnId, start: e.start, detectedAt: e.at, speechStartWall: wall(e.start), startSentAt: Date.now(), partials: 0, room });
      this.out.control(makeControl('speech-start', turnId, { source: 'asr', ...(room ? { room } : {}) }));
      this.out.status('busy', 'hearing speech');
      return;
    }
    const u = this.utterances.get(e.utterance);
    if (!u) return;
    if (e.type === 'speech-end') {
      u.end = { end: e.end, at: e.at, wall: wall(e.at), reason: e.reason, decidedWall: Date.now(), turn: e.turn };
      this.out.control(makeControl('speech-end', u.turnId, { source: 'asr', ...(u.room ? { room: u.room } : {}) }));
      if (this.info?.kind === 'vad-only') this.finish(e.utterance, u, { speech_ms: round(((e.end - e.start) / SPEECH_RATE) * 1000, 0) });
      else this.out.status('busy', 'recognising');
      return;
    }
    if (e.type === 'partial') {
      u.partials++;
      u.firstPartialMs ??= Date.now() - u.startSentAt;
      this.out.transcript(this.transcript(u, e.text, true, e.at, { speechStart: u.speechStartWall, recognitionMs: Date.now() - wall(e.at) }));
      return;
    }
    const speechMs = ((e.end - e.start) / SPEECH_RATE) * 1000;
    const endWall = u.end?.wall ?? wall(e.at);
    const recognitionMs = Date.now() - endWall;
    if (e.text) this.out.transcript(this.transcript(u, e.text, false, e.at, { speechStart: wall(e.start), speechEnd: wall(e.end), recognitionMs }));
    this.finish(e.utterance, u, {
      speech_ms: round(speechMs, 0),
      recognition_ms: recognitionMs,
      decode_ms: round(e.decodeMs),
      rtf: round(e.computeMs / Math.max(1, speechMs), 3),
      partials: u.partials,
      ...(u.firstPartialMs !== undefined ? { first_partial_ms: u.firstPartialMs } : {}),
      words: e.text ? e.text.split(/\s+/).length : 0,
    });
  }

  /** Closes an utterance: its metrics go out, its bookkeeping goes. */
  private finish(id: number, u: Utterance, figures: Record<string, unknown>): void {
    this.utterances.delete(id);
    const payload = {
      ...figures,
      // Audio time from the onset to speech-start (the barge-in), and from the last word to speech-end.
      vad_start_ms: round(((u.detectedAt - u.start) / SPEECH_RATE) * 1000, 0),
      ...(u.end ? { vad_end_ms: round(((u.end.at - u.end.end) / SPEECH_RATE) * 1000, 0), ended_by: u.end.reason, ...this.turnFigures(u.end) } : {}),
      model: this.info?.kind,
    };
    this.out.metrics(metrics('asr', u.turnId, payload, u.room));
    if (this.utterances.size === 0 && !this.pauseTimer && !this.dropping) this.out.status('ready', figures.words === 0 ? 'no words heard' : this.idleText());
  }

  /**
   * The end-of-turn wait as the user lives it: from the last word (wall clock) to speech-end
   * leaving the engine (the turn model's time included); and the model's verdict, when asked.
   */
  private turnFigures(end: NonNullable<Utterance['end']>): Record<string, number> {
    const lastWordWall = end.wall - ((end.at - end.end) / SPEECH_RATE) * 1000;
    const figures: Record<string, number> = { turn_wait_ms: Math.round(end.decidedWall - lastWordWall) };
    if (end.turn) Object.assign(figures, { turn_probability: round(end.turn.probability, 3), turn_model_ms: round(end.turn.ms), turn_checks: end.turn.checks });
    return figures;
  }

  private transcript(u: Utterance, text: string, partial: boolean, at: number, timings: TranscriptMessage['timings']): TranscriptMessage {
    return transcript(text, partial, timings, { turnId: u.turnId, ...this.speakers.during(u.start, at) });
  }

  private idleText(): string {
    return this.info?.kind === 'vad-only' ? 'VAD only' : 'listening';
  }
}
