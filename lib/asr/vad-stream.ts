/**
 * Silero VAD (sherpa-onnx) over a continuous 16 kHz stream, as events:
 * speech-start the moment the VAD is sure someone speaks, speech-end once the
 * end-of-speech silence has passed, both with the boundaries of the speech in
 * stream time. Runs inside a worker engine (native calls block).
 */

import { existsSync } from 'node:fs';
import { CodedError } from '../coded-error';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

export interface VadSettings {
  model: string;
  threshold: number;
  /** Seconds of speech before speech-start (default 0.25). */
  minSpeech: number;
  /** Seconds of silence that end an utterance (default 0.5). */
  minSilence: number;
  /** Longest utterance in seconds; longer speech is cut into pieces. */
  maxSpeech: number;
}

export type VadEvent =
  | { type: 'speech-start'; /** stream time of the detection */ atMs: number; /** estimated start of the speech */ speechStartMs: number }
  | { type: 'speech-end'; atMs: number; speechStartMs: number; speechEndMs: number; samples: Float32Array };

export const SAMPLE_RATE = 16000;
const WINDOW = 512;
const msOf = (samples: number) => (samples / SAMPLE_RATE) * 1000;

interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isDetected(): boolean;
  isEmpty(): boolean;
  front(enableExternalBuffer: boolean): { samples: Float32Array; start: number };
  pop(): void;
  flush(): void;
  reset(): void;
}

export class VadStream {
  private readonly vad: SherpaVad;
  private readonly pending = new Float32Array(WINDOW);
  private filled = 0;
  /** Samples given to the VAD so far: the stream clock. */
  private consumed = 0;
  private speaking = false;

  constructor(private readonly settings: VadSettings) {
    // sherpa-onnx ends the whole process on a missing model file: check first.
    if (!settings.model || !existsSync(settings.model)) {
      throw new CodedError(`Silero VAD model not found: ${settings.model || '(none set)'}`, 'VAD_MISSING', 'VAD model missing');
    }
    this.vad = new sherpa.Vad(
      {
        sileroVad: {
          model: settings.model,
          threshold: settings.threshold,
          minSpeechDuration: settings.minSpeech,
          minSilenceDuration: settings.minSilence,
          maxSpeechDuration: settings.maxSpeech,
          windowSize: WINDOW,
        },
        sampleRate: SAMPLE_RATE,
        numThreads: 1,
        debug: false,
      },
      // Seconds of audio the VAD may hold: one utterance plus margin.
      settings.maxSpeech + 5,
    ) as SherpaVad;
  }

  /** Feeds 16 kHz samples of any length; returns what happened in them. */
  push(samples: Float32Array): VadEvent[] {
    const events: VadEvent[] = [];
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(WINDOW - this.filled, samples.length - i);
      this.pending.set(samples.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled === WINDOW) {
        this.filled = 0;
        this.vad.acceptWaveform(this.pending);
        this.consumed += WINDOW;
        this.collect(events);
      }
    }
    return events;
  }

  /** Ends the stream: an utterance in progress ends now. */
  flush(): VadEvent[] {
    const events: VadEvent[] = [];
    this.vad.flush();
    this.collect(events);
    this.speaking = false;
    return events;
  }

  /** Forgets everything (a new session). */
  reset(): void {
    this.vad.reset();
    this.filled = 0;
    this.speaking = false;
  }

  private collect(events: VadEvent[]): void {
    const atMs = msOf(this.consumed);
    if (!this.speaking && this.vad.isDetected()) {
      this.speaking = true;
      // Silero needs `minSpeech` of speech, plus about two windows of context, to be sure.
      events.push({ type: 'speech-start', atMs, speechStartMs: Math.max(0, atMs - this.settings.minSpeech * 1000 - msOf(2 * WINDOW)) });
    }
    while (!this.vad.isEmpty()) {
      const seg = this.vad.front(false);
      const samples = trimTrailingSilence(Float32Array.from(seg.samples));
      this.vad.pop();
      events.push({ type: 'speech-end', atMs, speechStartMs: msOf(seg.start), speechEndMs: msOf(seg.start + samples.length), samples });
      this.speaking = this.vad.isDetected();
    }
  }
}

/**
 * Silero's speech probability decays for ~100 ms after the voice stops, so a
 * segment ends that much late. Trim it to its last 10 ms frame within 40 dB
 * of the segment's loudest frame, looking only at the final 300 ms.
 */
function trimTrailingSilence(samples: Float32Array): Float32Array {
  const frame = SAMPLE_RATE / 100;
  const frames = Math.floor(samples.length / frame);
  const energy = new Float32Array(frames);
  let peak = 0;
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let k = f * frame; k < (f + 1) * frame; k++) sum += samples[k] * samples[k];
    energy[f] = sum / frame;
    if (energy[f] > peak) peak = energy[f];
  }
  const floor = peak * 1e-4; // -40 dB
  let last = frames - 1;
  const earliest = Math.max(0, frames - 30);
  while (last > earliest && energy[last] < floor) last--;
  return samples.subarray(0, (last + 1) * frame);
}
