/**
 * Streaming Silero VAD (sherpa-onnx) for any worker engine. Feed 16 kHz mono
 * float samples in chunks of any length; get speech-start and speech-end
 * events whose positions count samples from the first one fed (sample 0):
 *
 *   const vad = new SileroVad({ model: 'silero_vad.onnx' });   // defaults: VAD_DEFAULTS
 *   for (const e of vad.push(samples)) {
 *     if (e.type === 'speech-start') barge(e.start, e.at); // onset, and the sample at which the VAD was sure
 *     else recognise(e.samples);                        // the speech, e.start to e.end; e.at = when it ended
 *   }
 *   vad.flush();                                        // end of a recording: an utterance in progress ends now
 *                                                       // (audio fed after it starts afresh, on the same clock)
 *
 * Native calls block: use it inside an EngineHost worker, never on Node-RED's thread.
 */
import { existsSync } from 'node:fs';
import { CodedError } from '../coded-error';
import { MISSING_MODEL_STATUS, missingModelMessage } from '../models/missing-model';
import { trimTrailingSilence } from './trim';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

export const VAD_SAMPLE_RATE = 16000;

export interface VadSettings {
  /** Path of silero_vad.onnx (v4, v5 or v6). */
  model: string;
  /** Speech probability above which a window counts as speech (0..1). */
  threshold: number;
  /** Seconds of speech before speech-start: shorter reacts faster, longer ignores coughs and clicks. */
  minSpeech: number;
  /** Seconds of silence that end an utterance. */
  minSilence: number;
  /** Longest utterance in seconds: longer speech is cut there and goes on as a new utterance. */
  maxSpeech: number;
}

export const VAD_DEFAULTS: Omit<VadSettings, 'model'> = { threshold: 0.5, minSpeech: 0.25, minSilence: 0.5, maxSpeech: 20 };

export interface SpeechStart {
  type: 'speech-start';
  /** First sample of the speech: the same position speech-end will report as its start (Silero v5/v6; v4: within 40 ms). */
  start: number;
  /** Samples fed when the VAD became sure (start + about min speech + 100 ms). */
  at: number;
}

export interface SpeechEnd {
  type: 'speech-end';
  start: number;
  /** One past the last sample of speech (trailing silence trimmed). */
  end: number;
  /** Samples fed when the utterance was over. */
  at: number;
  /** The speech itself, samples start..end. */
  samples: Float32Array;
  /** silence: min silence passed; max-length: cut at max speech; flush: the stream ended. */
  reason: 'silence' | 'max-length' | 'flush';
}

export type VadEvent = SpeechStart | SpeechEnd;

/** Samples Silero scores at a time at 16 kHz. */
const WINDOW = 512;
/**
 * Silero v5+ sees 64 samples of context before each window; sherpa-onnx's
 * VAD therefore runs one window behind what it was given and dates a
 * segment's start `2 * (WINDOW + CONTEXT) + min speech` before its tail
 * (voice-activity-detector.cc). The speech-start estimate uses the same sum.
 */
const CONTEXT = 64;

interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isDetected(): boolean;
  isEmpty(): boolean;
  front(enableExternalBuffer: boolean): { samples: Float32Array; start: number };
  pop(): void;
  flush(): void;
  reset(): void;
}

export class SileroVad {
  readonly settings: VadSettings;
  private readonly vad: SherpaVad;
  private readonly window = new Float32Array(WINDOW);
  private filled = 0;
  /** Samples given to sherpa-onnx so far: the stream clock. */
  private consumed = 0;
  /** Where sherpa-onnx's own clock (segment starts) began on ours: it restarts at 0 on each flush. */
  private base = 0;
  /** The open utterance's start, or -1. */
  private open = -1;
  /** Where the last segment ended as sherpa-onnx cut it: no new speech starts before. */
  private floor = 0;

  constructor(settings: Pick<VadSettings, 'model'> & Partial<VadSettings>) {
    this.settings = { ...VAD_DEFAULTS, ...settings };
    checkSettings(this.settings);
    const { model, threshold, minSpeech, minSilence, maxSpeech } = this.settings;
    this.vad = new sherpa.Vad(
      {
        sileroVad: { model, threshold, minSpeechDuration: minSpeech, minSilenceDuration: minSilence, maxSpeechDuration: maxSpeech, windowSize: WINDOW },
        sampleRate: VAD_SAMPLE_RATE,
        numThreads: 1,
        debug: false,
      },
      // Seconds of audio sherpa-onnx may hold: one utterance (we cut at maxSpeech) plus margin.
      maxSpeech + 5,
    ) as SherpaVad;
  }

  /** Samples fed so far (the position of the next sample). */
  get position(): number {
    return this.consumed + this.filled;
  }

  /** True between speech-start and speech-end. */
  get speaking(): boolean {
    return this.open >= 0;
  }

  /** Feeds the next samples (any length); returns what happened in them, in order. */
  push(samples: Float32Array): VadEvent[] {
    const events: VadEvent[] = [];
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(WINDOW - this.filled, samples.length - i);
      this.window.set(samples.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled < WINDOW) break;
      this.filled = 0;
      this.vad.acceptWaveform(this.window);
      this.consumed += WINDOW;
      this.collect(events, 'silence');
      if (this.open >= 0 && this.consumed - this.open >= this.settings.maxSpeech * VAD_SAMPLE_RATE) {
        this.vad.flush();
        this.collect(events, 'max-length');
        // So that speech going on starts the next utterance right at the cut,
        // the reset VAD gets again what sherpa-onnx held past the segment's
        // end (the last window, unscored as it runs one behind; none for v4).
        // Fresh, it needs min speech to start: a shorter burst is dropped.
        const held = Math.min(WINDOW, Math.max(0, this.consumed - this.floor));
        this.restart(this.window.subarray(WINDOW - held));
      }
    }
    return events;
  }

  /** Ends the recording: an utterance in progress ends now; audio fed next starts afresh (positions go on). */
  flush(): VadEvent[] {
    const events: VadEvent[] = [];
    this.vad.flush();
    this.collect(events, 'flush');
    // A new recording: what sherpa-onnx held of the old one is not fed again.
    this.restart();
    return events;
  }

  /** Forgets the stream: the next sample fed is sample 0 again. */
  reset(): void {
    this.vad.reset();
    this.filled = 0;
    this.consumed = 0;
    this.base = 0;
    this.open = -1;
    this.floor = 0;
  }

  /**
   * Takes Silero out of speech after sherpa-onnx's flush() (ours, or the
   * max-length cut): that ends the segment but leaves Silero's own state in
   * speech (or counting the end-of-speech silence), so the next window, even
   * silence, would open a phantom utterance (a false barge-in after mute, a
   * mic restart or a cut just after the user stopped) or an empty one
   * ("circular-buffer.cc Invalid n"). Resetting also restarts sherpa-onnx's
   * positions at 0, so keep our clock: its sample 0 is now the first of
   * `again` (fed to it anew), or our `consumed` (the partial window still to feed).
   */
  private restart(again = new Float32Array(0)): void {
    this.vad.reset();
    this.base = this.floor = this.consumed - again.length;
    if (again.length > 0) this.vad.acceptWaveform(again);
  }

  private collect(events: VadEvent[], reason: SpeechEnd['reason']): void {
    while (!this.vad.isEmpty()) {
      const seg = this.vad.front(false);
      this.vad.pop();
      const start = this.base + seg.start;
      const end = start + seg.samples.length;
      const samples = reason === 'max-length' ? Float32Array.from(seg.samples) : Float32Array.from(trimTrailingSilence(seg.samples, VAD_SAMPLE_RATE));
      events.push({ type: 'speech-end', start, end: start + samples.length, at: this.consumed, samples, reason });
      this.open = -1;
      this.floor = end;
    }
    if (this.open < 0 && this.vad.isDetected()) {
      const lag = WINDOW + 2 * (WINDOW + CONTEXT) + Math.round(this.settings.minSpeech * VAD_SAMPLE_RATE);
      this.open = Math.max(this.floor, this.consumed - lag);
      events.push({ type: 'speech-start', start: this.open, at: this.consumed });
    }
  }
}

function checkSettings(s: VadSettings): void {
  // sherpa-onnx ends the whole process on a missing model file: check first.
  if (!s.model || !existsSync(s.model)) {
    throw new CodedError(missingModelMessage('vad', 'Silero VAD model', s.model), 'VAD_MISSING', MISSING_MODEL_STATUS.vad);
  }
  const bad = (what: string) => new CodedError(`VAD setting out of range: ${what}`, 'BAD_SETTING', 'bad VAD setting');
  if (!(s.threshold > 0 && s.threshold < 1)) throw bad(`threshold ${s.threshold} (expected between 0 and 1)`);
  if (!(s.minSpeech > 0 && s.minSpeech <= 5)) throw bad(`min speech ${s.minSpeech} s (expected above 0, at most 5)`);
  if (!(s.minSilence > 0 && s.minSilence <= 10)) throw bad(`end-of-speech silence ${s.minSilence} s (expected above 0, at most 10)`);
  if (!(s.maxSpeech > s.minSpeech && s.maxSpeech <= 300)) throw bad(`max utterance ${s.maxSpeech} s (expected above min speech, at most 300)`);
}
