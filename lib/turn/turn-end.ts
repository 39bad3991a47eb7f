/**
 * End of turn by a turn model: the VAD's segments joined into turns that end
 * when Smart Turn v3 hears a finished turn, not after a fixed silence.
 *
 * Shaped like SileroVad (push, flush, position, settings), so the asr session
 * takes either. Its VAD runs with a short min silence (`pause`): it cuts at
 * every pause, and the cut pieces of one turn are joined here. `pause` after
 * the last voiced 10 ms frame (lib/turn/pause.ts: faster than the VAD's own
 * end), the model hears the turn so far; "complete" ends the turn at once.
 * Otherwise the turn stays open: speech going on continues it (no second
 * speech-start: the assistant has not been asked yet), and `timeout` of
 * silence ends it anyway. The model is asked once per pause.
 */
import { AudioHistory } from '../audio/history';
import { CodedError } from '../coded-error';
import { SileroVad, VAD_SAMPLE_RATE, type SpeechEnd, type SpeechStart, type VadSettings } from '../vad/silero-vad';
import { FRAME, PauseTracker } from './pause';
import type { SmartTurn } from './smart-turn';

export interface TurnSettings {
  /** Seconds of silence after the last word before the model is asked. */
  pause: number;
  /** Seconds of silence that end a turn the model calls unfinished. */
  timeout: number;
}

/**
 * Measured on the test set (test/lib/turn): asked after 0.1-0.15 s the model
 * ended two sentences cut in the middle at once ("and a grain or two perhaps",
 * and "Author of the danger trail," at its pause), after 0.2 s none. The
 * timeout keeps cut sentences waiting past 1 s; pipecat waits 3 s, which on
 * the whole sentences the model misses costs more than silence alone.
 */
export const TURN_DEFAULTS: TurnSettings = { pause: 0.2, timeout: 1.2 };

/** What the model said the last time it was asked on a turn. */
export interface TurnCheck {
  probability: number;
  /** Features and inference of that check, ms. */
  ms: number;
  /** How many times the model was asked on this turn. */
  checks: number;
}

export type TurnEndEvent = Omit<SpeechEnd, 'reason'> & {
  /** turn-model: the model heard a finished turn; silence: the timeout passed. */
  reason: SpeechEnd['reason'] | 'turn-model';
  turn?: TurnCheck;
};
export type TurnEvent = SpeechStart | TurnEndEvent;

/** Audio the model hears before the onset, as pipecat gives it (pre_speech_ms). */
const LEAD_IN = 0.5 * VAD_SAMPLE_RATE;

interface Turn {
  start: number;
  /** One past the last sample of speech heard so far (VAD segment or voiced frame): silence counts from here. */
  last: number;
  /** Where the utterance handed to the recogniser ends: the VAD's end of its last piece (trimmed as in silence-only mode, so both give the recogniser the same samples). */
  speechEnd: number;
  /** The VAD is inside a segment of this turn. */
  segmentOpen: boolean;
  /** The model was asked on the current pause. */
  asked: boolean;
  check?: TurnCheck;
}

export class TurnEnd {
  readonly settings: VadSettings;
  private readonly vad: SileroVad;
  private readonly pauses = new PauseTracker();
  private readonly history: AudioHistory;
  private readonly frame = new Float32Array(FRAME);
  private filled = 0;
  private turn: Turn | undefined;

  constructor(
    vad: Pick<VadSettings, 'model'> & Partial<VadSettings>,
    private readonly model: SmartTurn,
    private readonly turnSettings: TurnSettings = TURN_DEFAULTS,
  ) {
    checkSettings(turnSettings);
    this.vad = new SileroVad({ ...vad, minSilence: turnSettings.pause });
    // The VAD's min silence is ours; the user's is the timeout's business.
    this.settings = { ...this.vad.settings, minSilence: turnSettings.timeout };
    // A turn of up to max speech, joined from pieces each of up to max speech, and the lead-in.
    this.history = new AudioHistory(VAD_SAMPLE_RATE, 2 * this.settings.maxSpeech + turnSettings.timeout + 1);
  }

  get position(): number {
    return this.vad.position + this.filled;
  }

  async push(samples: Float32Array): Promise<TurnEvent[]> {
    const events: TurnEvent[] = [];
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(FRAME - this.filled, samples.length - i);
      this.frame.set(samples.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled < FRAME) break;
      this.filled = 0;
      await this.step(this.frame, events);
    }
    return events;
  }

  /** The stream ends: a turn in progress ends now. */
  flush(): TurnEvent[] {
    const events: TurnEvent[] = [];
    if (this.filled > 0) {
      const rest = this.frame.slice(0, this.filled);
      this.history.push(rest);
      this.filled = 0;
      this.segments(this.vad.push(rest), events);
    }
    if (this.turn) this.end('flush', events);
    else this.segments(this.vad.flush(), events);
    return events;
  }

  private async step(frame: Float32Array, events: TurnEvent[]): Promise<void> {
    this.history.push(frame);
    const voiced = this.pauses.frame(frame, this.turn !== undefined);
    this.segments(this.vad.push(frame), events);
    const turn = this.turn;
    if (!turn) return;
    const now = this.vad.position;
    if (voiced) {
      turn.last = Math.max(turn.last, now);
      turn.asked = false;
    }
    const silence = (now - turn.last) / VAD_SAMPLE_RATE;
    if (!turn.asked && silence >= this.turnSettings.pause) await this.ask(turn, events);
    // Between the VAD's pieces, voiced frames (a word too short for the VAD) keep the turn open,
    // but noise that never falls silent (a louder room) must not: twice the timeout after the VAD's last piece, it ends.
    else if (!turn.segmentOpen && (silence >= this.turnSettings.timeout || now - turn.speechEnd >= 2 * this.turnSettings.timeout * VAD_SAMPLE_RATE)) this.end('silence', events);
    else if (!turn.segmentOpen && now - turn.start >= this.settings.maxSpeech * VAD_SAMPLE_RATE) this.end('max-length', events);
  }

  /** The VAD's own events: a turn's first speech-start goes out; its pieces are joined. */
  private segments(vadEvents: (SpeechStart | SpeechEnd)[], events: TurnEvent[]): void {
    for (const e of vadEvents) {
      if (e.type === 'speech-start') {
        if (this.turn) {
          this.turn.segmentOpen = true;
          continue;
        }
        this.turn = { start: e.start, last: e.at, speechEnd: e.start, segmentOpen: true, asked: false };
        this.pauses.startTurn(Math.ceil((e.at - e.start) / FRAME));
        events.push(e);
        continue;
      }
      const turn = this.turn;
      if (!turn) continue; // cannot happen: every segment starts a turn or continues one
      turn.segmentOpen = false;
      turn.last = Math.max(turn.last, e.end);
      turn.speechEnd = Math.max(turn.speechEnd, e.end);
      // A piece cut at max speech (the VAD goes on from the cut) or the stream's end ends the turn there.
      if (e.reason !== 'silence') this.end(e.reason, events);
    }
  }

  private async ask(turn: Turn, events: TurnEvent[]): Promise<void> {
    turn.asked = true;
    const now = this.vad.position;
    const heard = this.history.since((Math.max(0, turn.start - LEAD_IN) / VAD_SAMPLE_RATE) * 1000);
    const verdict = await this.model.predict(heard);
    turn.check = { probability: verdict.probability, ms: verdict.ms, checks: (turn.check?.checks ?? 0) + 1 };
    if (verdict.complete) this.end('turn-model', events, now);
  }

  private end(reason: TurnEndEvent['reason'], events: TurnEvent[], at = this.vad.position): void {
    const turn = this.turn!;
    this.turn = undefined;
    if (turn.segmentOpen) {
      // The VAD is still in the segment: end it (its state too) and take where the voice stopped.
      for (const e of this.vad.flush()) if (e.type === 'speech-end') turn.speechEnd = Math.max(turn.speechEnd, e.end);
    }
    // (No piece ended, which the VAD's flush always gives: what was voiced.)
    const end = Math.min(turn.speechEnd > turn.start ? turn.speechEnd : turn.last, this.vad.position);
    const fromStart = this.history.since((turn.start / VAD_SAMPLE_RATE) * 1000);
    const samples = fromStart.slice(0, Math.max(0, end - turn.start));
    events.push({ type: 'speech-end', start: turn.start, end: turn.start + samples.length, at, samples, reason, ...(turn.check ? { turn: turn.check } : {}) });
  }
}

function checkSettings({ pause, timeout }: TurnSettings): void {
  const bad = (what: string) => new CodedError(`turn setting out of range: ${what}`, 'BAD_SETTING', 'bad turn setting');
  if (!(pause > 0 && pause <= 2)) throw bad(`pause ${pause} s (expected above 0, at most 2)`);
  if (!(timeout > pause && timeout <= 30)) throw bad(`timeout ${timeout} s (expected above the pause, ${pause} s, at most 30)`);
}
