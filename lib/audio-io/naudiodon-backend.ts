import { probeDevices } from './device-probe';
import { DeviceError, pickDevice, type NativeBackend, type AudioDevice, type DeviceStream, type OpenRequest, type StreamHandlers } from './backend';
import { Framer } from '../audio/framer';
import { bufferToInt16, int16ToBuffer } from '../audio/pcm';

/** Silent buffers played when an output opens (see open()). */
const PRIME_BUFFERS = 10;

interface PaDevice {
  id: number;
  name: string;
  maxInputChannels: number;
  maxOutputChannels: number;
}
interface PaStream extends NodeJS.EventEmitter {
  start(): void;
  quit(cb?: () => void): void;
  abort(cb?: () => void): void;
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean;
}
interface Naudiodon {
  SampleFormat16Bit: number;
  getDevices(): PaDevice[];
  getHostAPIs(): { defaultHostAPI: number; HostAPIs: Array<{ defaultInput: number; defaultOutput: number }> };
  AudioIO(options: Record<string, unknown>): PaStream;
}

/**
 * PortAudio through naudiodon (optional: unmaintained since 2021). Its
 * streams buffer `highwaterMark` bytes (16 KiB = 0.5 s at 16 kHz) by default,
 * which would make every interrupt late: we set it to one device buffer and
 * write the next buffer only when PortAudio took the previous one.
 */
export class NaudiodonBackend implements NativeBackend {
  readonly name = 'naudiodon' as const;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  private readonly pa = require('naudiodon') as Naudiodon;

  devices(): AudioDevice[] {
    const host = this.pa.getHostAPIs();
    const api = host.HostAPIs[host.defaultHostAPI];
    return this.pa.getDevices().map((d) => ({
      name: d.name,
      inputChannels: d.maxInputChannels,
      outputChannels: d.maxOutputChannels,
      defaultInput: d.id === api?.defaultInput,
      defaultOutput: d.id === api?.defaultOutput,
    }));
  }

  async probe(): Promise<AudioDevice[]> {
    return (await probeDevices(this.name)).devices;
  }

  open(request: OpenRequest, handlers: StreamHandlers): DeviceStream {
    const listed = this.devices();
    const raw = this.pa.getDevices();
    const idOf = (name: string, direction: 'input' | 'output'): number => raw[listed.indexOf(pickDevice(listed, name, direction))].id;
    const bytes = request.framesPerBuffer * 2;
    const options = (deviceId: number) => ({
      channelCount: 1,
      sampleFormat: this.pa.SampleFormat16Bit,
      sampleRate: request.sampleRate,
      deviceId,
      framesPerBuffer: request.framesPerBuffer,
      highwaterMark: bytes,
      closeOnError: false,
    });
    const streams: PaStream[] = [];
    let closed = false;
    const lost = (err: Error) => {
      if (!closed) handlers.error?.(new DeviceError('DEVICE_LOST', `audio device failed: ${err.message}`));
    };
    // Writes one buffer at a time: the queue we can still drop lives here, not inside PortAudio.
    const queue: Array<{ samples: Int16Array; silence?: boolean }> = [];
    let writing = false;
    let out: PaStream | undefined;
    const pump = () => {
      if (writing || closed || !out) return;
      const next = queue.shift();
      if (!next) return;
      writing = true;
      out.write(int16ToBuffer(next.samples), (err) => {
        writing = false;
        if (err) return lost(err);
        if (!next.silence) handlers.played?.();
        pump();
      });
    };
    try {
      if (request.input !== undefined) {
        const input = this.pa.AudioIO({ inOptions: options(idOf(request.input, 'input')) });
        const framer = new Framer(request.framesPerBuffer);
        input.on('data', (chunk: Buffer) => {
          for (const frame of framer.push(bufferToInt16(chunk))) handlers.capture?.(frame);
        });
        input.on('error', lost);
        streams.push(input);
      }
      if (request.output !== undefined) {
        out = this.pa.AudioIO({ outOptions: options(idOf(request.output, 'output')) });
        out.on('error', lost);
        streams.push(out);
        // PortAudio drops part of the first buffers while its ALSA stream starts: start on silence.
        for (let i = 0; i < PRIME_BUFFERS; i++) queue.push({ samples: new Int16Array(request.framesPerBuffer), silence: true });
      }
      for (const s of streams) s.start();
      pump();
    } catch (err) {
      for (const s of streams) s.quit();
      if (err instanceof DeviceError) throw err;
      throw new DeviceError('OPEN_FAILED', `cannot open the audio device: ${(err as Error).message}`);
    }
    return {
      sampleRate: request.sampleRate,
      framesPerBuffer: request.framesPerBuffer,
      write: (samples) => {
        queue.push({ samples });
        pump();
      },
      clear: () => {
        for (let i = queue.length - 1; i >= 0; i--) if (!queue[i].silence) queue.splice(i, 1);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        // quit() can wait forever for a buffer that never fills: give it a moment, then let go.
        const quit = Promise.all(streams.map((s) => new Promise<void>((resolve) => s.quit(() => resolve()))));
        await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      },
    };
  }
}
