import { RtAudio } from 'audify';
import { bufferToInt16, int16ToBuffer } from '../audio/pcm';
import { probeDevices } from './device-probe';
import { DeviceError, pickDevice, type NativeBackend, type AudioDevice, type DeviceStream, type OpenRequest, type StreamHandlers } from './backend';

// audify's enums are `declare const enum`s, which a per-file transpiler cannot inline.
const API_PULSE = 4;
const FORMAT_SINT16 = 0x2;
const ERROR_UNSPECIFIED = 2;
/**
 * RtAudio reports a failed device read or write (PulseAudio server gone, USB
 * device unplugged) only as a warning, then calls back at full CPU speed with
 * empty buffers: that warning means the stream is dead.
 */
const DEAD_STREAM_WARNING = /audio (read|write) error/;

/**
 * RtAudio through audify. On Linux the PulseAudio API is preferred (PipeWire
 * serves it too) because it names real devices; plain ALSA lists only
 * "Default ALSA Device" on most desktops. Elsewhere RtAudio picks the API.
 */
export class AudifyBackend implements NativeBackend {
  readonly name = 'audify' as const;
  private api: number | undefined;

  devices(): AudioDevice[] {
    return this.listWith(this.rtAudio());
  }

  /** The probe also brings the host API it found: this process then never tries one that is not there. */
  async probe(): Promise<AudioDevice[]> {
    const { devices, api } = await probeDevices(this.name);
    if (api !== undefined) this.api = api;
    return devices;
  }

  /** The RtAudio API this backend uses (0: RtAudio's own choice). */
  hostApi(): number {
    this.rtAudio();
    return this.api ?? 0;
  }

  open(request: OpenRequest, handlers: StreamHandlers): DeviceStream {
    const rt = this.rtAudio();
    const devices = rt.getDevices();
    const listed = this.listWith(rt);
    const idOf = (name: string, direction: 'input' | 'output'): number => devices[listed.indexOf(pickDevice(listed, name, direction))].id;
    const output = request.output !== undefined ? { deviceId: idOf(request.output, 'output'), nChannels: 1 } : null;
    const input = request.input !== undefined ? { deviceId: idOf(request.input, 'input'), nChannels: 1 } : null;
    let closed = false;
    // Once dead, the stream's empty buffers must not reach the card: they would count as played audio.
    let dead = false;
    try {
      rt.openStream(
        output,
        input,
        FORMAT_SINT16,
        request.sampleRate,
        request.framesPerBuffer,
        'node-red-realtime-voice',
        input ? (pcm: Buffer) => dead || handlers.capture?.(bufferToInt16(pcm).slice()) : null,
        output ? () => dead || handlers.played?.() : null,
        0 as never,
        (type: number, message: string) => {
          // Other warnings (underruns, xruns) are routine.
          if (dead || closed || (type < ERROR_UNSPECIFIED && !DEAD_STREAM_WARNING.test(message))) return;
          dead = true;
          handlers.error?.(new DeviceError('DEVICE_LOST', `audio device failed: ${message}`));
        },
      );
      rt.start();
    } catch (err) {
      if (rt.isStreamOpen()) rt.closeStream();
      throw new DeviceError('OPEN_FAILED', `cannot open the audio device: ${(err as Error).message}`);
    }
    return {
      sampleRate: request.sampleRate,
      framesPerBuffer: request.framesPerBuffer,
      write: (samples) => rt.write(int16ToBuffer(samples)),
      clear: () => rt.clearOutputQueue(),
      close: async () => {
        if (closed) return;
        closed = true;
        // Not stop(): on PulseAudio it drains the output first, which takes two seconds.
        rt.clearOutputQueue();
        if (rt.isStreamOpen()) rt.closeStream();
      },
    };
  }

  private rtAudio(): RtAudio {
    if (this.api === undefined) {
      this.api = 0;
      if (process.platform === 'linux') {
        try {
          if (new RtAudio(API_PULSE).getDevices().length > 0) this.api = API_PULSE;
        } catch {
          // no PulseAudio/PipeWire server: RtAudio's own choice (ALSA) is next
        }
      }
    }
    return this.api ? new RtAudio(this.api) : new RtAudio();
  }

  private listWith(rt: RtAudio): AudioDevice[] {
    return rt.getDevices().map((d) => ({
      name: d.name,
      inputChannels: d.inputChannels,
      outputChannels: d.outputChannels,
      defaultInput: Boolean(d.isDefaultInput),
      defaultOutput: Boolean(d.isDefaultOutput),
    }));
  }
}
