import { EventEmitter } from 'node:events';
import { DeviceError, pickDevice, type AudioBackend, type DeviceStream } from './backend';
import type { PlaybackSink } from './playback-queue';

export interface SoundCardSettings {
  sampleRate: number;
  frameMs: number;
  /** Device names; '' = the system default. */
  input: string;
  output: string;
  /** Where the card is (msg.room of what its mic-in sends, the only answers its speaker-out plays); '' or absent: no room. */
  room?: string;
  /** The status while the card opens, when opening can wait long (a browser card waits for its page). */
  opening?: string;
}

/** What a speaker-out gives the card: where to send the stream, and the device's receipts. */
export interface OutputUser {
  attach(sink: PlaybackSink | undefined): void;
  onPlayed(): void;
}

export type CardState = 'closed' | 'opening' | 'open' | 'retrying' | 'failed';

/**
 * mic-in and speaker-out both show what stops their card: with one stream for
 * both directions, a missing speaker stops the microphone too, which says so.
 */
function duplexError(err: Error): Error {
  if (!(err instanceof DeviceError) || err.code !== 'DEVICE_MISSING') return err;
  return new DeviceError(err.code, `${err.message} (this sound card opens its microphone and speaker together, for echo cancellation)`, err.statusText);
}

/** Backend and devices (backend|input|output) that opened in this process and were not lost since. */
const OPENED = new Set<string>();

/** Back-off between attempts to (re)open a missing device: 1 s, 2 s, 4 s … 30 s. */
const RETRY_MS = [1000, 2000, 4000, 8000, 16000, 30000];
/** No capture for this long means the device is gone even if the library said nothing. */
const SILENT_DEVICE_MS = 3000;
/** Captured buffers waiting for their played twin (3 s at 20 ms) before the pairing gives up on them. */
const MAX_UNPAIRED = 150;

/**
 * One physical sound card shared by the mic-in and speaker-out nodes that name
 * it. It opens a single stream for both directions (so the echo canceller gets
 * playback and capture on one clock), opens lazily once the nodes using it
 * have registered, and reopens with back-off when the device is missing or
 * vanishes. Events: 'state' (state, error?), 'reference' (mic, played): every
 * captured buffer with the audio the device took for playback since the last
 * one, sample-aligned to within one buffer.
 */
export class SoundCard extends EventEmitter {
  private readonly inputs = new Set<(samples: Int16Array) => void>();
  private output: OutputUser | undefined;
  private stream: DeviceStream | undefined;
  private failures = 0;
  private pendingOpen: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The devices of the last open attempt, as OPENED keys them. */
  private opened = '';
  private watchdog: NodeJS.Timeout | undefined;
  private lastCapture = 0;
  private closed = false;
  private opening: Promise<void> = Promise.resolve();
  /** Buffers written to the device and not yet taken, then taken and not yet paired with a capture. */
  private written: Int16Array[] = [];
  private taken: Int16Array[] = [];
  private captured: Int16Array[] = [];
  private silent: Int16Array | undefined;

  constructor(
    private readonly backend: () => AudioBackend,
    readonly settings: SoundCardSettings,
  ) {
    super();
  }

  get framesPerBuffer(): number {
    return Math.round((this.settings.sampleRate * this.settings.frameMs) / 1000);
  }

  /** Starts capture for one listener (device-rate buffers); returns the function that stops it. */
  addInput(listener: (samples: Int16Array) => void): () => void {
    this.inputs.add(listener);
    if (this.inputs.size === 1) this.scheduleOpen();
    return () => {
      if (this.inputs.delete(listener) && this.inputs.size === 0) this.scheduleOpen();
    };
  }

  /** Starts capture for a listener that also wants what was played in each captured period (echo cancellation). */
  addInputWithPlayback(listener: (samples: Int16Array, played: Int16Array) => void): () => void {
    this.on('reference', listener);
    const stop = this.addInput(() => undefined);
    return () => {
      this.off('reference', listener);
      stop();
    };
  }

  addOutput(user: OutputUser): () => void {
    if (this.output) throw new DeviceError('OPEN_FAILED', 'this sound card already plays for another speaker-out node; give each speaker-out its own card');
    this.output = user;
    this.scheduleOpen();
    return () => {
      if (this.output !== user) return;
      this.output = undefined;
      user.attach(undefined);
      this.scheduleOpen();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pendingOpen) clearImmediate(this.pendingOpen);
    clearTimeout(this.retryTimer);
    await this.opening;
    await this.closeStream();
    this.setState('closed');
  }

  // Nodes of one deploy register in the same tick: open once, for all of them.
  private scheduleOpen(): void {
    if (this.closed || this.pendingOpen) return;
    clearTimeout(this.retryTimer);
    this.pendingOpen = setImmediate(() => {
      this.pendingOpen = undefined;
      this.opening = this.opening.then(() => this.reopen());
    });
  }

  private async reopen(): Promise<void> {
    await this.closeStream();
    if (this.closed) return;
    const wantInput = this.inputs.size > 0;
    const output = this.output;
    if (!wantInput && !output) return this.setState('closed');
    this.setState('opening');
    try {
      const backend = this.backend();
      // Whether the devices are there is asked in a child process first: a device that stays
      // missing is retried for as long as it takes, and the native libraries' complaints
      // about it (ALSA, RtApiPulse, dozens of lines each time) would flood Node-RED's log.
      // Devices that just opened fine are opened at once (a redeploy costs no probe).
      const devices = `${backend.name}|${wantInput ? this.settings.input : '-'}|${output ? this.settings.output : '-'}`;
      if (!OPENED.has(devices)) {
        const found = await backend.probe();
        if (this.closed) return;
        if (wantInput) pickDevice(found, this.settings.input, 'input');
        if (output) pickDevice(found, this.settings.output, 'output');
      }
      this.opened = devices;
      this.stream = await backend.open(
        {
          sampleRate: this.settings.sampleRate,
          framesPerBuffer: this.framesPerBuffer,
          input: wantInput ? this.settings.input : undefined,
          output: output ? this.settings.output : undefined,
        },
        {
          capture: (samples) => this.onCapture(samples),
          played: () => this.onPlayed(),
          error: (err) => this.lost(err),
        },
      );
    } catch (err) {
      return this.lost(wantInput && output ? duplexError(err as Error) : (err as Error));
    }
    this.failures = 0;
    OPENED.add(this.opened);
    this.lastCapture = performance.now();
    if (wantInput) this.watchdog = setInterval(() => this.checkCapture(), 1000);
    output?.attach(this.sink(this.stream));
    this.setState('open');
  }

  private sink(stream: DeviceStream): PlaybackSink {
    return {
      write: (samples) => {
        this.written.push(samples);
        stream.write(samples);
      },
      clear: () => {
        this.written = [];
        stream.clear();
      },
    };
  }

  private onCapture(samples: Int16Array): void {
    this.lastCapture = performance.now();
    for (const listener of this.inputs) listener(samples);
    this.captured.push(samples);
    this.pairReference();
  }

  private onPlayed(): void {
    const buffer = this.written.shift();
    // Without capture there is nothing to pair with (and nobody to need the reference).
    if (buffer && this.inputs.size > 0) this.taken.push(buffer);
    this.output?.onPlayed();
    this.pairReference();
  }

  /**
   * One device period yields one captured and one played buffer, but their
   * callbacks reach JavaScript separately and sometimes in bursts: pair them in
   * order. A capture waits for its twin while the device holds buffers of ours;
   * when it holds none, the device played silence in that period.
   */
  private pairReference(): void {
    if (this.listenerCount('reference') === 0) {
      this.captured = [];
      this.taken = [];
      return;
    }
    while (this.captured.length) {
      const played = this.taken.shift() ?? (this.written.length === 0 || this.captured.length > MAX_UNPAIRED ? this.silence(this.captured[0].length) : undefined);
      if (!played) return;
      this.emit('reference', this.captured.shift(), played);
    }
  }

  private checkCapture(): void {
    if (performance.now() - this.lastCapture > SILENT_DEVICE_MS) {
      this.lost(new DeviceError('DEVICE_LOST', `the input device "${this.settings.input || 'default'}" sent nothing for ${SILENT_DEVICE_MS / 1000} s`));
    }
  }

  private lost(err: Error): void {
    if (this.closed) return;
    OPENED.delete(this.opened);
    const permanent = err instanceof DeviceError && err.code === 'NO_BACKEND';
    this.setState(permanent ? 'failed' : 'retrying', err);
    void this.closeStream();
    if (permanent) return;
    const wait = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.opening = this.opening.then(() => this.reopen());
    }, wait);
  }

  /** One shared silent buffer per length: idle periods (most of them) allocate nothing. Listeners must not write to it. */
  private silence(length: number): Int16Array {
    if (this.silent?.length !== length) this.silent = new Int16Array(length);
    return this.silent;
  }

  private async closeStream(): Promise<void> {
    clearInterval(this.watchdog);
    const stream = this.stream;
    this.stream = undefined;
    this.written = [];
    this.taken = [];
    this.captured = [];
    this.output?.attach(undefined);
    await stream?.close();
  }

  private setState(state: CardState, err?: Error): void {
    this.emit('state', state, err);
  }
}
