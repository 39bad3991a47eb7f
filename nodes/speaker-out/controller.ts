import { AudioInlet } from '../../lib/audio/inlet';
import { validateAudioMessage } from '../../lib/audio/validate';
import { ALL_TURNS, isControlMessage, makeControl, metrics, newTurnId, parseControl, turnFields, TurnTracker, type CancelEvent, type ControlMessage, type MetricsMessage } from '../../lib/messages';
import type { PlaybackItem, TurnReport } from '../../lib/audio-io/playback-queue';

/** What the controller needs from the speaker: a queue per turn that can be cut. */
export interface Speaker {
  readonly sampleRate: number;
  /** Takes the item's samples at once (they may be a view of the message's payload). */
  enqueue(item: PlaybackItem): void;
  cancel(match: (turnId: string) => boolean): string[];
}

export interface SpeakerOutputs {
  control(msg: ControlMessage): void;
  metrics(msg: MetricsMessage): void;
  status(kind: 'busy' | 'ready' | 'idle', text: string): void;
}

/**
 * The speaker-out node's behaviour: frames of any rate and channel count are
 * converted to the device rate and queued per turn; a cancelled turn's audio
 * is dropped, now and when it arrives late; the device's receipts become
 * tts-start / tts-end on the control wire and a metrics message per turn.
 */
export class SpeakerController {
  private readonly turns = new TurnTracker();
  /** One converter per turn: its filter state must not leak between turns. */
  private readonly inlets = new Map<string, AudioInlet>();
  /** The turn id given to audio that arrives without one (a plain WAV, a test tone). */
  private anonymous: string | undefined;

  constructor(
    private readonly speaker: Speaker,
    private readonly out: SpeakerOutputs,
  ) {}

  handle(msg: Record<string, unknown>): void {
    if (isControlMessage(msg)) return this.cancel(parseControl(msg));
    if (msg.stop === true) return this.cancel({ type: 'flush', turnId: ALL_TURNS });
    const { format, pcm } = validateAudioMessage(msg);
    const turnId = typeof msg.turnId === 'string' && msg.turnId ? msg.turnId : (this.anonymous ??= newTurnId());
    if (this.turns.isStale(turnId)) return;
    this.turns.begin(turnId);
    const complete = msg.complete === true;
    let inlet = this.inlets.get(turnId);
    if (!inlet) {
      // A turn's first frame says its room, once: the frames after it go by on the audio path.
      this.inlets.set(turnId, (inlet = new AudioInlet(this.speaker.sampleRate)));
      this.turns.place(turnId, turnFields(msg).room);
    }
    const samples = inlet.toInt16(pcm, format.sampleRate, format.channels, complete);
    this.speaker.enqueue({ turnId, samples, text: typeof msg.text === 'string' ? msg.text : undefined, complete });
  }

  /** The device started playing a turn. */
  started(turnId: string): void {
    this.out.control(makeControl('tts-start', turnId, { source: 'speaker-out' }));
    this.out.status('busy', 'playing');
  }

  /** A turn played to its end, or was cut. */
  ended(report: TurnReport): void {
    this.inlets.delete(report.turnId);
    if (this.anonymous === report.turnId) this.anonymous = undefined;
    this.turns.finish(report.turnId);
    const { turnId, playedMs, cut, spokenText } = report;
    this.out.control(makeControl('tts-end', turnId, { source: 'speaker-out', playedMs: Math.round(playedMs), cut, ...(spokenText !== undefined ? { spokenText } : {}) }));
    this.out.metrics(metrics('speaker', turnId, { first_audio_to_played_ms: report.waitedMs, played_ms: Math.round(playedMs), cut, underruns: report.underruns }));
    this.out.status('ready', cut ? 'cut' : 'idle');
  }

  /** Cuts the turns the event cancels; the one it names stays cancelled even if none of its audio has arrived yet. */
  private cancel(c: CancelEvent): void {
    this.turns.cancelBy(c, this.speaker.cancel(this.turns.matcher(c)));
  }
}
