import { downmix, s16leToFloat32 } from '../../lib/audio/pcm';
import { Resampler } from '../../lib/audio/resample';
import { SPEECH_RATE } from '../../lib/audio/format';
import { validateAudioMessage } from '../../lib/audio/validate';
import { makeControl, parseControl, type ControlMessage } from '../../lib/control/protocol';
import { newTurnId } from '../../lib/control/turns';
import type { AsrEvent } from '../../lib/asr/asr-engine';

/** Sends 16 kHz mono samples to the engine; resolves with what happened in them. */
export type Recognize = (method: 'audio' | 'flush', samples: Float32Array) => Promise<AsrEvent[]>;

export interface AsrOutputs {
  transcript(msg: Record<string, unknown>): void;
  control(msg: ControlMessage): void;
  metrics(msg: Record<string, unknown>): void;
  status(kind: 'busy' | 'ready' | 'idle' | 'waiting' | 'failed', text: string): void;
}

export interface AsrSettings {
  /** Honour pause/resume from llama-llm: hold audio back while the LLM evaluates its prompt. */
  pauseDuringPrefill: boolean;
  /** Most audio held while paused; older audio is dropped. */
  maxPausedSeconds: number;
}

/**
 * The asr node's behaviour: audio frames in any format go to the engine in
 * order; speech-start (a new turn, the barge-in signal) and speech-end leave
 * on the control wire, transcripts on the first output.
 */
export class AsrController {
  private readonly resamplers = new Map<number, Resampler>();
  private chain: Promise<void> = Promise.resolve();
  private paused = false;
  private held: Float32Array[] = [];
  private heldSamples = 0;
  /** Stream time (ms of audio processed) and the wall clock it matches. */
  private streamMs = 0;
  private turnId: string | undefined;
  private speaker: unknown;

  constructor(
    private readonly recognize: Recognize,
    private readonly settings: AsrSettings,
    private readonly out: AsrOutputs,
  ) {}

  /** One input message; resolves once its audio has been through the engine. */
  handle(msg: Record<string, unknown>): Promise<void> {
    if (msg.control != null) {
      this.control(parseControl(msg).type);
      return Promise.resolve();
    }
    const { format, pcm } = validateAudioMessage(msg);
    if (msg.speaker !== undefined) this.speaker = msg.speaker;
    const samples = this.toSpeechRate(downmix(s16leToFloat32(pcm), format.channels), format.sampleRate);
    if (this.paused) {
      this.hold(samples);
      return Promise.resolve();
    }
    return this.enqueue('audio', samples);
  }

  private control(type: string): void {
    if (!this.settings.pauseDuringPrefill) return;
    if (type === 'pause') {
      this.paused = true;
      this.out.status('waiting', 'paused');
    } else if (type === 'resume' && this.paused) {
      this.paused = false;
      const held = this.held;
      this.held = [];
      this.heldSamples = 0;
      for (const chunk of held) void this.enqueue('audio', chunk).catch(() => undefined);
      this.out.status('ready', 'listening');
    }
  }

  private hold(samples: Float32Array): void {
    this.held.push(samples);
    this.heldSamples += samples.length;
    while (this.heldSamples > this.settings.maxPausedSeconds * SPEECH_RATE && this.held.length > 1) {
      this.heldSamples -= this.held.shift()!.length;
    }
  }

  private toSpeechRate(samples: Float32Array, rate: number): Float32Array {
    if (rate === SPEECH_RATE) return samples;
    let r = this.resamplers.get(rate);
    if (!r) this.resamplers.set(rate, (r = new Resampler(rate, SPEECH_RATE)));
    return r.push(samples);
  }

  /** The end of the audio (e.g. a WAV file played in): an utterance in progress ends now. */
  flush(): Promise<void> {
    return this.enqueue('flush', new Float32Array(0));
  }

  private enqueue(method: 'audio' | 'flush', samples: Float32Array): Promise<void> {
    // The samples' buffer moves to the worker: take the length first.
    const ms = (samples.length / SPEECH_RATE) * 1000;
    const run = this.chain.then(async () => {
      const events = await this.recognize(method, samples);
      this.streamMs += ms;
      for (const e of events) this.emit(e);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stream time → wall clock, as of now (the audio just processed ends now). */
  private wall(ms: number): number {
    return Math.round(Date.now() - (this.streamMs - ms));
  }

  private emit(e: AsrEvent): void {
    switch (e.type) {
      case 'speech-start':
        this.turnId = newTurnId();
        this.out.control(makeControl('speech-start', this.turnId, { source: 'asr' }));
        this.out.status('busy', 'hearing speech');
        return;
      case 'partial':
        if (this.turnId) this.out.transcript(this.transcript(e.text, true));
        return;
      case 'speech-end':
        this.out.control(makeControl('speech-end', this.turnId ?? newTurnId(), { source: 'asr' }));
        return;
      case 'final': {
        const turnId = this.turnId ?? newTurnId();
        const msg = this.transcript(e.text, false);
        msg.timings = { speechStart: this.wall(e.speechStartMs), speechEnd: this.wall(e.speechEndMs), recognitionMs: Math.round(e.recognitionMs * 100) / 100 };
        if (e.text) this.out.transcript(msg);
        this.out.metrics({
          topic: 'metrics',
          stage: 'asr',
          turnId,
          payload: {
            speech_ms: Math.round(e.speechEndMs - e.speechStartMs),
            recognition_ms: Math.round(e.recognitionMs * 100) / 100,
            rtf: Math.round((e.recognitionMs / Math.max(1, e.speechEndMs - e.speechStartMs)) * 1000) / 1000,
          },
        });
        this.out.status('ready', e.text ? 'listening' : 'no words heard');
        this.turnId = undefined;
        this.speaker = undefined;
      }
    }
  }

  private transcript(text: string, partial: boolean): Record<string, unknown> {
    const msg: Record<string, unknown> = { topic: 'transcript', payload: text, partial, turnId: this.turnId };
    if (this.speaker !== undefined) msg.speaker = this.speaker;
    return msg;
  }
}
