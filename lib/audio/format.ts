/** The format block that travels with every audio frame as msg.audio. */
export interface AudioFormat {
  sampleRate: number;
  channels: number;
  format: 's16le';
}

/** What every recogniser, VAD and speaker model of the package consumes. */
export const SPEECH_RATE = 16000;

export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 384000;
export const MAX_CHANNELS = 8;
/** One message longer than this is a bug upstream (frames are 10-30 ms), not audio to play. */
export const MAX_FRAME_SECONDS = 10;
/**
 * And no larger than this, whatever its rate: converting one message to
 * 16 kHz mono runs on Node-RED's thread, and this much (10 s of 16 kHz mono
 * and a little more; 2 s of 48 kHz stereo) converts in about 13 ms on a
 * 2-core x86 box, inside the 20 ms a message may hold the event loop.
 */
export const MAX_FRAME_BYTES = 384 * 1024;

export function monoFormat(sampleRate: number): AudioFormat {
  return { sampleRate, channels: 1, format: 's16le' };
}
