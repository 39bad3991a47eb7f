/**
 * The VAD events in milliseconds, as lib/voiceprint reads them. A bridge
 * until voiceprint uses lib/vad (sample positions) directly; then it goes.
 * It keeps the estimate voiceprint was tuned with: speech-start dated min
 * speech + two windows before detection, 40 ms after the start lib/vad
 * reports (which includes the VAD's lead-in and equals the segment's start).
 */
import { SileroVad, VAD_SAMPLE_RATE, type VadEvent as SampleEvent, type VadSettings } from './silero-vad';

export { VAD_SAMPLE_RATE as SAMPLE_RATE, type VadSettings };

export type VadEvent =
  | { type: 'speech-start'; atMs: number; speechStartMs: number }
  | { type: 'speech-end'; atMs: number; speechStartMs: number; speechEndMs: number; samples: Float32Array };

const ms = (samples: number) => (samples / VAD_SAMPLE_RATE) * 1000;
const TWO_WINDOWS_MS = ms(2 * 512);

export class VadStream {
  private readonly vad: SileroVad;

  constructor(settings: VadSettings) {
    this.vad = new SileroVad(settings);
  }

  push(samples: Float32Array): VadEvent[] {
    return this.vad.push(samples).map((e) => this.toMs(e));
  }

  flush(): VadEvent[] {
    return this.vad.flush().map((e) => this.toMs(e));
  }

  private toMs(e: SampleEvent): VadEvent {
    if (e.type === 'speech-end') return { type: e.type, atMs: ms(e.at), speechStartMs: ms(e.start), speechEndMs: ms(e.end), samples: e.samples };
    const estimate = ms(e.at) - this.vad.settings.minSpeech * 1000 - TWO_WINDOWS_MS;
    return { type: e.type, atMs: ms(e.at), speechStartMs: Math.max(ms(e.start), estimate) };
  }
}
