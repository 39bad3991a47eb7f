import { SPEECH_RATE } from '../../lib/audio/format';
import { Framer } from '../../lib/audio/framer';
import { AudioInlet } from '../../lib/audio/inlet';
import { dbfs, int16ToFloat32 } from '../../lib/audio/pcm';
import { EchoCanceller } from '../../lib/aec/echo-canceller';
import { inputError } from '../../lib/coded-error';
import { audioFrame, flushMessage, isControlMessage, parseControl, type AudioFrameMessage, type FlushMessage } from '../../lib/messages';

/**
 * Where the samples come from: a sound card's capture, or a WAV file. A sound
 * card that also plays passes what it played in the same period (`played`,
 * same length and rate), which the echo canceller removes from the capture.
 */
export interface MicSource {
  start(onSamples: (samples: Int16Array, sampleRate: number, played?: Int16Array) => void, onEnd: () => void): void | Promise<void>;
  stop(): void;
}

export interface MicOutputs {
  audio(msg: AudioFrameMessage | FlushMessage): void;
  status(kind: 'ready' | 'idle' | 'waiting' | 'busy', text: string): void;
}

/** Commands a flow can send as msg.payload (or msg.command). */
const COMMANDS = ['start', 'stop', 'mute', 'unmute'] as const;
type Command = (typeof COMMANDS)[number];

/** How often the status line shows the input level. */
const LEVEL_EVERY_MS = 500;

/**
 * The mic-in node's behaviour: whatever the source's rate, frames leave at
 * 16 kHz mono s16le in `frameMs` slices. Stopping or muting sends
 * `msg.flush` so that a recogniser closes the utterance it was hearing.
 */
export class MicController {
  private running = false;
  private muted = false;
  private current: MicSource | undefined;
  private inlet = new AudioInlet(SPEECH_RATE);
  /** What the card played, converted alongside the capture: same rates and lengths in, the same number of samples out. */
  private playedInlet = new AudioInlet(SPEECH_RATE);
  private canceller: EchoCanceller | undefined;
  private readonly framer: Framer;
  private peakDb = -Infinity;
  private lastLevelAt = 0;

  constructor(
    private readonly source: () => MicSource,
    private readonly out: MicOutputs,
    frameMs: number,
    private readonly echoCancel = false,
  ) {
    this.framer = Framer.forDuration(SPEECH_RATE, frameMs);
  }

  get state(): { running: boolean; muted: boolean } {
    return { running: this.running, muted: this.muted };
  }

  handle(msg: Record<string, unknown>): void | Promise<void> {
    if (isControlMessage(msg)) {
      const c = parseControl(msg);
      if (c.type === 'mute' || c.type === 'unmute') return this.command(c.type);
      return;
    }
    const word = typeof msg.command === 'string' ? msg.command : msg.payload;
    if (typeof word !== 'string' || !COMMANDS.includes(word.trim().toLowerCase() as Command)) {
      throw inputError(`mic-in takes msg.payload "start", "stop", "mute" or "unmute", got ${JSON.stringify(word) ?? 'nothing'}`);
    }
    return this.command(word.trim().toLowerCase() as Command);
  }

  async command(command: Command): Promise<void> {
    switch (command) {
      case 'start':
        return this.start();
      case 'stop':
        return this.stop();
      case 'mute':
        if (!this.muted) this.endUtterance();
        this.muted = true;
        return this.showState();
      case 'unmute':
        this.muted = false;
        return this.showState();
    }
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.inlet = new AudioInlet(SPEECH_RATE);
    this.playedInlet = new AudioInlet(SPEECH_RATE);
    // A new canceller per start: the room may have changed while stopped, and a stale filter is worse than none.
    this.canceller = this.echoCancel ? new EchoCanceller() : undefined;
    this.current = this.source();
    this.showState();
    try {
      await this.current.start(
        (samples, rate, played) => this.onSamples(samples, rate, played),
        () => void this.stop(),
      );
    } catch (err) {
      this.running = false;
      this.current = undefined;
      throw err;
    }
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.current?.stop();
    this.current = undefined;
    this.endUtterance();
    this.showState();
  }

  private onSamples(samples: Int16Array, rate: number, played?: Int16Array): void {
    if (!this.running || this.muted) return;
    let speech = this.inlet.toInt16(samples, rate);
    if (this.canceller && played) speech = this.canceller.process(speech, this.playedInlet.toInt16(played, rate));
    // The framer's frames are fresh copies: they become the payloads as they are.
    for (const frame of this.framer.push(speech)) {
      this.trackLevel(frame);
      this.out.audio(audioFrame(frame, SPEECH_RATE));
    }
  }

  /** Whatever is left in the framer goes out, then the end-of-recording marker. */
  private endUtterance(): void {
    const rest = this.framer.flush();
    if (rest && !this.muted) this.out.audio(audioFrame(rest, SPEECH_RATE));
    this.out.audio(flushMessage(SPEECH_RATE));
  }

  private trackLevel(frame: Int16Array): void {
    this.peakDb = Math.max(this.peakDb, dbfs(int16ToFloat32(frame)));
    const now = performance.now();
    if (now - this.lastLevelAt < LEVEL_EVERY_MS) return;
    this.lastLevelAt = now;
    const level = Number.isFinite(this.peakDb) ? `${Math.round(this.peakDb)} dBFS` : 'silence';
    this.out.status('ready', level);
    this.peakDb = -Infinity;
  }

  private showState(): void {
    if (!this.running) this.out.status('idle', 'stopped');
    else if (this.muted) this.out.status('waiting', 'muted');
    else this.out.status('busy', 'listening');
  }
}
