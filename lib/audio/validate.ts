import { AudioFrameError } from './errors';
import { MAX_CHANNELS, MAX_FRAME_BYTES, MAX_FRAME_SECONDS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, type AudioFormat } from './format';

export interface ValidAudio {
  format: AudioFormat;
  /** The payload as given (s16le, interleaved). */
  pcm: Buffer;
  /** Frames (samples per channel) in the payload. */
  frames: number;
}

/**
 * Checks an incoming audio message against docs/messages.md and says, in
 * words a flow author understands, what is wrong with it.
 */
export function validateAudioMessage(msg: { payload?: unknown; audio?: unknown }, maxSeconds = MAX_FRAME_SECONDS): ValidAudio {
  const format = validateFormat(msg.audio);
  const { payload } = msg;
  if (payload === undefined || payload === null) {
    throw new AudioFrameError('NO_PAYLOAD', 'msg.payload is missing: expected a Buffer of s16le PCM');
  }
  if (!Buffer.isBuffer(payload)) {
    throw new AudioFrameError('NO_PAYLOAD', `msg.payload is ${typeof payload}: expected a Buffer of s16le PCM`);
  }
  if (payload.length === 0) throw new AudioFrameError('EMPTY_PAYLOAD', 'msg.payload is an empty Buffer');
  const bytesPerFrame = 2 * format.channels;
  if (payload.length % bytesPerFrame !== 0) {
    throw new AudioFrameError(
      'ODD_BYTES',
      `msg.payload has ${payload.length} bytes, not a multiple of ${bytesPerFrame} (16-bit x ${format.channels} channel)`,
    );
  }
  const frames = payload.length / bytesPerFrame;
  const seconds = frames / format.sampleRate;
  if (seconds > maxSeconds) {
    throw new AudioFrameError('TOO_LONG', `one frame holds ${seconds.toFixed(1)} s of audio; frames must be at most ${maxSeconds} s`);
  }
  if (payload.length > MAX_FRAME_BYTES) {
    throw new AudioFrameError(
      'TOO_BIG',
      `one frame holds ${payload.length} bytes; frames must be at most ${MAX_FRAME_BYTES} bytes (send audio as frames of 10-30 ms)`,
    );
  }
  return { format, pcm: payload, frames };
}

export function validateFormat(audio: unknown): AudioFormat {
  if (typeof audio !== 'object' || audio === null) {
    throw new AudioFrameError('NO_AUDIO_INFO', 'msg.audio is missing: expected { sampleRate, channels, format: "s16le" }');
  }
  const { sampleRate, channels, format } = audio as Record<string, unknown>;
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new AudioFrameError(
      'BAD_SAMPLE_RATE',
      `msg.audio.sampleRate is ${String(sampleRate)}: expected a whole number of Hz from ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE}`,
    );
  }
  const ch = channels === undefined ? 1 : channels;
  if (typeof ch !== 'number' || !Number.isInteger(ch) || ch < 1 || ch > MAX_CHANNELS) {
    throw new AudioFrameError('BAD_CHANNELS', `msg.audio.channels is ${String(channels)}: expected 1 to ${MAX_CHANNELS}`);
  }
  if (format !== undefined && format !== 's16le') {
    throw new AudioFrameError('BAD_FORMAT', `msg.audio.format is "${String(format)}": only "s16le" is supported`);
  }
  return { sampleRate, channels: ch, format: 's16le' };
}
