import { CodedError } from '../coded-error';

/**
 * One small interface in front of the native audio libraries, so that the
 * sound card, mic-in and speaker-out never touch a library's own API.
 * Streams are mono s16le at one rate, in fixed-size device buffers.
 */
export type BackendName = 'audify' | 'naudiodon';

export const BACKENDS: readonly BackendName[] = ['audify', 'naudiodon'];

/** What a sound card can use: a native library, or a browser page over WebSocket (browser-room.ts). */
export type CardBackendName = BackendName | 'browser';

export interface AudioDevice {
  /** What the user picks and the config stores: names survive a reboot, numeric ids do not. */
  name: string;
  inputChannels: number;
  outputChannels: number;
  defaultInput: boolean;
  defaultOutput: boolean;
}

export interface OpenRequest {
  sampleRate: number;
  /** Samples per device buffer (e.g. 320 = 20 ms at 16 kHz). */
  framesPerBuffer: number;
  /** Capture from this device ('' = the system default); absent = no capture. */
  input?: string;
  /** Play to this device ('' = the system default); absent = no playback. */
  output?: string;
}

export interface StreamHandlers {
  /** One captured buffer of `framesPerBuffer` samples (the array is the handler's to keep). */
  capture?(samples: Int16Array): void;
  /** The device took the oldest buffer given to write(): it is being played now. */
  played?(): void;
  /** The stream failed (device unplugged, server gone): it is dead and must be reopened. */
  error?(err: Error): void;
}

export interface DeviceStream {
  readonly sampleRate: number;
  readonly framesPerBuffer: number;
  /** Queues exactly `framesPerBuffer` samples for playback. */
  write(samples: Int16Array): void;
  /** Drops every buffer written but not yet taken by the device. */
  clear(): void;
  close(): Promise<void>;
}

/** What the sound card uses: device lists, and streams that open asynchronously (in a device process). */
export interface AudioBackend {
  readonly name: CardBackendName;
  /** Lists devices in a child process whose stderr is captured (device-probe.ts): quiet. */
  probe(): Promise<AudioDevice[]>;
  open(request: OpenRequest, handlers: StreamHandlers): Promise<DeviceStream>;
}

/**
 * A native audio library, driven in the process that loaded it: the device
 * process (device-main.ts), the probe, and benchmarks of the bare library.
 */
export interface NativeBackend {
  readonly name: BackendName;
  /** Lists devices in this process: the native libraries may print to stderr (see probe). */
  devices(): AudioDevice[];
  probe(): Promise<AudioDevice[]>;
  open(request: OpenRequest, handlers: StreamHandlers): DeviceStream;
}

/** PAGE_GONE: a browser card's page closed, reloaded or went offline; routine (a tablet sleeps), no failure. */
export type DeviceErrorCode = 'NO_BACKEND' | 'DEVICE_MISSING' | 'OPEN_FAILED' | 'DEVICE_LOST' | 'PAGE_GONE';

const STATUS: Record<DeviceErrorCode, string> = {
  NO_BACKEND: 'no audio backend',
  DEVICE_MISSING: 'device missing',
  OPEN_FAILED: 'cannot open device',
  DEVICE_LOST: 'device lost',
  PAGE_GONE: 'waiting for browser',
};

/** A browser page that left: routine, the card waits for the next one (not a failure to report). */
export function isPageGone(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 'PAGE_GONE';
}

export class DeviceError extends CodedError {
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
    statusText = STATUS[code],
  ) {
    super(message, code, statusText);
  }
}

/** Finds a device by the name the user picked; '' means the system default. */
export function pickDevice(devices: AudioDevice[], name: string, direction: 'input' | 'output'): AudioDevice {
  const usable = devices.filter((d) => (direction === 'input' ? d.inputChannels : d.outputChannels) > 0);
  const found = name
    ? usable.find((d) => d.name === name)
    : (usable.find((d) => (direction === 'input' ? d.defaultInput : d.defaultOutput)) ?? usable[0]);
  if (!found) {
    // Named for what it is to the user: mic-in reads this too when its card also plays (one duplex stream).
    const what = direction === 'input' ? 'microphone (input device)' : 'speaker (output device)';
    const known = usable.map((d) => `"${d.name}"`).join(', ') || 'none';
    throw new DeviceError(
      'DEVICE_MISSING',
      `no ${what} ${name ? `named "${name}"` : 'found'} (${direction} devices: ${known}): connect one, or choose another in the sound-card node` +
        (usable.length ? '' : '; with none at all, is the sound server (PulseAudio / PipeWire) reachable from Node-RED?'),
      direction === 'input' ? 'no mic: see debug' : 'no speaker: see debug',
    );
  }
  return found;
}
