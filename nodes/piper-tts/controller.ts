import { inputError } from '../../lib/coded-error';
import { float32ToInt16 } from '../../lib/audio/pcm';
import { Framer } from '../../lib/audio/framer';
import { ALL_TURNS, audioFrame, isControlMessage, makeControl, metrics, newTurnId, parseControl, turnFields, TurnTracker, type AudioFrameMessage, type ControlMessage, type CancelEvent, type MetricsMessage, type TurnFields } from '../../lib/messages';
import type { SentenceAudio, SynthesizeRequest } from '../../lib/tts/piper-engine';

/** What the controller needs from the engine: one text in, sentences out as they are ready. */
export type Synthesize = (
  request: SynthesizeRequest,
  options: { signal: AbortSignal; onSentence: (s: SentenceAudio) => void },
) => Promise<{ sentences: number; synthMs: number; audioMs: number; unknownPhonemes: string[] }>;

export interface TtsOutputs {
  audio(msg: AudioFrameMessage): void;
  control(msg: ControlMessage): void;
  metrics(msg: MetricsMessage): void;
  status(kind: 'busy' | 'ready' | 'idle' | 'failed', text: string): void;
  warn(text: string): void;
}

export interface TtsSettings {
  frameMs: number;
  maxChars: number;
  synth: Omit<SynthesizeRequest, 'text'>;
}

interface Job {
  turnId: string;
  text: string;
  complete: boolean;
  /** The input's turn fields, which every frame of it carries. */
  fields: TurnFields;
  /** The input was the reply's last chunk (msg.complete === true): even a silent one must reach the speaker. */
  endsReply: boolean;
  queuedAt: number;
  /** Settles the input message: spoken, dropped, or failed. */
  settle: (err?: Error) => void;
}

/** Frames sent per turn of the event loop: a few ms of Node-RED's work (send, deliver, the speaker's queue). */
const FRAMES_PER_TICK = 8;

/**
 * A sentence's frames leave a few at a time, one batch per turn of the event
 * loop: a 5 s sentence is 250 frames, and sending them in one go held
 * Node-RED's event loop for 40-60 ms (every other flow waited). The first
 * batch leaves at once; a cancel stops the rest from leaving at all.
 */
class FrameOutbox {
  private readonly frames: Array<{ samples: Int16Array; text: string }> = [];
  private next = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly emit: (samples: Int16Array, text: string) => void,
    private readonly live: () => boolean,
  ) {}

  add(frames: Int16Array[], text: string): void {
    for (const samples of frames) this.frames.push({ samples, text });
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once every frame added so far has left (or the turn was cancelled). */
  async drained(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.next < this.frames.length) {
      if (!this.live()) break;
      for (const end = Math.min(this.next + FRAMES_PER_TICK, this.frames.length); this.next < end; this.next++) {
        const { samples, text } = this.frames[this.next];
        this.emit(samples, text);
      }
      if (this.next < this.frames.length) await new Promise((resolve) => setImmediate(resolve));
    }
    this.frames.length = this.next = 0;
  }
}

/**
 * The piper-tts node's behaviour: text chunks are spoken in order, audio
 * leaves in short frames as soon as each sentence is synthesised, and a
 * cancelled turn never makes another sound.
 */
export class TtsController {
  private readonly queue: Job[] = [];
  private current: { job: Job; abort: AbortController } | undefined;
  private readonly turns = new TurnTracker();
  private pumping = false;

  constructor(
    private readonly synthesize: Synthesize,
    private readonly settings: TtsSettings,
    private readonly out: TtsOutputs,
  ) {}

  /** Takes one input message; resolves once its text is spoken (or dropped), rejects if synthesis fails. */
  async handle(msg: Record<string, unknown>): Promise<void> {
    if (isControlMessage(msg)) return this.cancel(parseControl(msg));
    if (msg.stop === true) {
      this.flushAll('stop');
      this.out.status('idle', 'stopped');
      return;
    }
    // LLM chunks say whether the reply goes on; any other text (an announcement, a typed line) is whole:
    // the speaker ends its turn when it is spoken, instead of waiting for more.
    const complete = typeof msg.complete === 'boolean' ? msg.complete : true;
    const text = this.validate(msg.payload, msg.complete === true);
    const turnId = typeof msg.turnId === 'string' && msg.turnId ? msg.turnId : newTurnId();
    if (this.turns.isStale(turnId)) return;
    // An announcement pre-empts whatever is being said, and silences what is already queued in the speaker.
    if (msg.priority === true) this.flushAll('priority');
    // The reply in progress, until its last chunk is spoken: between two chunks nothing of it is queued,
    // yet a barge-in or a stop must still silence the chunks still on their way from the LLM.
    this.turns.begin(turnId, turnFields(msg).room);
    return new Promise<void>((resolve, reject) => {
      const job: Job = { turnId, text, complete, fields: { ...turnFields(msg), turnId }, endsReply: msg.complete === true, queuedAt: performance.now(), settle: (err) => (err ? reject(err) : resolve()) };
      if (msg.priority === true) this.queue.unshift(job);
      else this.queue.push(job);
      void this.pump();
    });
  }

  private validate(payload: unknown, endsReply: boolean): string {
    if (typeof payload !== 'string') throw inputError(`msg.payload must be text to speak, got ${payload === null ? 'null' : typeof payload}`);
    // The LLM's last chunk may be empty: it only says the reply is complete.
    if (!payload.trim() && !endsReply) throw inputError('msg.payload is empty: nothing to say');
    if (payload.length > this.settings.maxChars) throw inputError(`msg.payload has ${payload.length} characters; the limit is ${this.settings.maxChars}`);
    return payload.trim();
  }

  /** Drops the queued texts of the turns the event cancels and stops the synthesis in flight if it is one of them. */
  private cancel(c: CancelEvent): void {
    this.turns.cancelBy(c, [...this.queue.map((j) => j.turnId), this.current?.job.turnId]);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.turns.isStale(this.queue[i].turnId)) this.queue.splice(i, 1)[0].settle();
    }
    if (this.current && this.turns.isStale(this.current.job.turnId)) this.current.abort.abort();
  }

  /** Silences every turn, here and (by the flush it sends) in the speaker. */
  private flushAll(reason: string): void {
    const flush = makeControl('flush', ALL_TURNS, { source: 'piper-tts', reason });
    this.cancel(flush.control);
    this.out.control(flush);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        try {
          if (!this.turns.isStale(job.turnId)) await this.speak(job);
          if (job.complete) this.turns.finish(job.turnId);
          job.settle();
        } catch (err) {
          job.settle(err as Error);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async speak(job: Job): Promise<void> {
    const abort = new AbortController();
    this.current = { job, abort };
    const live = () => !abort.signal.aborted && !this.turns.isStale(job.turnId);
    let framer: Framer | undefined;
    let rate = 0;
    let held: AudioFrameMessage | undefined;
    let firstAudioMs: number | null = null;
    // Each frame is the framer's fresh copy: it becomes the payload as it is.
    const emit = (samples: Int16Array, text: string) => {
      if (held) this.out.audio(held);
      firstAudioMs ??= performance.now() - job.queuedAt;
      held = audioFrame(samples, rate, { ...job.fields, text, complete: false });
    };
    const outbox = new FrameOutbox(emit, live);
    this.out.status('busy', this.queue.length ? `speaking (${this.queue.length} queued)` : 'speaking…');
    try {
      const result = job.text
        ? await this.synthesize(
            { ...this.settings.synth, text: job.text },
            {
              signal: abort.signal,
              onSentence: (s) => {
                if (!live()) return;
                rate = s.sampleRate;
                framer ??= Framer.forDuration(rate, this.settings.frameMs);
                const pcm = float32ToInt16(s.samples);
                const frames = framer.push(pcm);
                const rest = framer.flush();
                if (rest) frames.push(rest);
                outbox.add(frames, s.text);
              },
            },
          )
        : undefined;
      await outbox.drained();
      if (!live()) return;
      if (!held && job.endsReply) {
        // Nothing audible in the reply's last chunk, but the speaker must still learn that the turn is complete.
        rate = rate || 16000;
        emit(new Int16Array(Math.round((rate * this.settings.frameMs) / 1000)), '');
      }
      if (held) this.out.audio({ ...held, chunkEnd: true, complete: job.complete });
      if (result?.unknownPhonemes.length) this.out.warn(`the voice has no phoneme ${result.unknownPhonemes.join(' ')}; skipped`);
      if (result && result.sentences === 0) this.out.status('idle', 'nothing to say');
      else this.out.status('ready', 'ready');
      if (result) {
        const figures = {
          first_audio_ms: firstAudioMs === null ? null : Math.round(firstAudioMs * 100) / 100,
          synth_ms: Math.round(result.synthMs * 100) / 100,
          audio_ms: Math.round(result.audioMs),
          rtf: result.audioMs > 0 ? Math.round((result.synthMs / result.audioMs) * 1000) / 1000 : null,
          sentences: result.sentences,
        };
        this.out.metrics(metrics('tts', job.turnId, figures, job.fields.room));
      }
    } catch (err) {
      if (live()) throw err;
    } finally {
      if (this.current?.job === job) this.current = undefined;
    }
  }

  /** Drops everything (node closing). */
  close(): void {
    this.cancel({ type: 'flush', turnId: ALL_TURNS });
  }
}
