/** Why an audio frame was refused; stable codes so flows can branch on msg.error. */
export type AudioErrorCode =
  | 'NO_PAYLOAD'
  | 'EMPTY_PAYLOAD'
  | 'ODD_BYTES'
  | 'NO_AUDIO_INFO'
  | 'BAD_SAMPLE_RATE'
  | 'BAD_CHANNELS'
  | 'BAD_FORMAT'
  | 'TOO_LONG'
  | 'TOO_BIG'
  | 'NOT_A_NUMBER'
  | 'BAD_WAV';

export class AudioFrameError extends Error {
  constructor(
    readonly code: AudioErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AudioFrameError';
  }
}
