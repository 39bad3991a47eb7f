import { downmix, float32ToInt16, int16ToFloat32, bufferToInt16 } from '../../lib/audio/pcm';
import { Resampler } from '../../lib/audio/resample';
import { validateAudioMessage } from '../../lib/audio/validate';
import { makeControl, parseControl, cancelsTurn, type ControlMessage } from '../../lib/control/protocol';
import { newTurnId, TurnTracker } from '../../lib/control/turns';
import type { PlaybackItem, TurnReport } from '../../lib/audio-io/playback-queue';

/** What the controller needs from the speaker: a queue per turn that can be cut. */
export interface Speaker {
  readonly sampleRate: number;
  enqueue(item: PlaybackItem): void;
  cancel(match: (turnId: string) => boolean): string[];
}

export interface SpeakerOutputs {
  control(msg: ControlMessage): void;
  metrics(msg: Record<string, unknown>): void;
  status(kind: 'busy' | 'ready' | 'idle', text: string): void;
}

/** Control turn id meaning every turn. */
const ALL = '*';

/**
 * The speaker-out node's behaviour: frames of any rate and channel count are
 * converted to the device rate and queued per turn; a cancelled turn's audio
 * is dropped, now and when it arrives late; the device's receipts become
 * tts-start / tts-end on the control wire and a metrics message per turn.
 */
export class SpeakerController {
  private readonly turns = new TurnTracker();
  /** One converter per turn: its filter state must not leak between turns. */
  private readonly resamplers = new Map<string, Resampler>();
  /** The turn id given to audio that arrives without one (a plain WAV, a test tone). */
  private anonymous: string | undefined;

  constructor(
    private readonly speaker: Speaker,
    private readonly out: SpeakerOutputs,
  ) {}

  handle(msg: Record<string, unknown>): void {
    if (msg.control != null) {
      const c = parseControl(msg);
      if (cancelsTurn(c.type)) this.cancel(c.type === 'speech-start' ? (id) => id !== c.turnId : c.turnId === ALL ? () => true : (id) => id === c.turnId, c.type === 'speech-start' ? undefined : c.turnId);
      return;
    }
    if (msg.stop === true) {
      this.cancel(() => true);
      return;
    }
    const { format, pcm } = validateAudioMessage(msg);
    const turnId = typeof msg.turnId === 'string' && msg.turnId ? msg.turnId : (this.anonymous ??= newTurnId());
    if (this.turns.isStale(turnId)) return;
    this.turns.begin(turnId);
    const complete = msg.complete === true;
    this.speaker.enqueue({ turnId, samples: this.toDevice(turnId, pcm, format.sampleRate, format.channels, complete), text: typeof msg.text === 'string' ? msg.text : undefined, complete });
  }

  /** The device started playing a turn. */
  started(turnId: string): void {
    this.out.control(makeControl('tts-start', turnId, { source: 'speaker-out' }));
    this.out.status('busy', 'playing');
  }

  /** A turn played to its end, or was cut. */
  ended(report: TurnReport): void {
    this.resamplers.delete(report.turnId);
    if (this.anonymous === report.turnId) this.anonymous = undefined;
    this.turns.finish(report.turnId);
    const { turnId, playedMs, cut, spokenText } = report;
    this.out.control(makeControl('tts-end', turnId, { source: 'speaker-out', playedMs: Math.round(playedMs), cut, ...(spokenText !== undefined ? { spokenText } : {}) }));
    this.out.metrics({
      topic: 'metrics',
      stage: 'speaker',
      turnId,
      payload: { first_audio_to_played_ms: report.waitedMs, played_ms: Math.round(playedMs), cut, underruns: report.underruns },
    });
    this.out.status('ready', cut ? 'cut' : 'idle');
  }

  private cancel(match: (turnId: string) => boolean, turnId?: string): void {
    // Remember the named turn even if none of its audio has arrived yet: it must never play.
    if (turnId !== undefined && turnId !== ALL) this.turns.cancel(turnId);
    for (const id of this.speaker.cancel(match)) this.turns.cancel(id);
  }

  private toDevice(turnId: string, pcm: Buffer, rate: number, channels: number, last: boolean): Int16Array {
    if (rate === this.speaker.sampleRate && channels === 1) return bufferToInt16(pcm).slice();
    const mono = downmix(int16ToFloat32(bufferToInt16(pcm)), channels);
    if (rate === this.speaker.sampleRate) return float32ToInt16(mono);
    let r = this.resamplers.get(turnId);
    if (r?.inputRate !== rate) this.resamplers.set(turnId, (r = new Resampler(rate, this.speaker.sampleRate)));
    const head = r.push(mono);
    if (!last) return float32ToInt16(head);
    const tail = r.flush();
    const all = new Float32Array(head.length + tail.length);
    all.set(head);
    all.set(tail, head.length);
    return float32ToInt16(all);
  }
}
