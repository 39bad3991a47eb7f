import assert from 'node:assert/strict';
import { validateAudioMessage } from '../../../lib/audio/validate';

const audio = { sampleRate: 16000, channels: 1, format: 's16le' };

describe('validateAudioMessage', () => {
  it('accepts a 20 ms frame and counts its samples', () => {
    const v = validateAudioMessage({ payload: Buffer.alloc(640), audio });
    assert.equal(v.frames, 320);
    assert.deepEqual(v.format, audio);
  });

  it('accepts stereo and other rates (nodes resample), channels defaulting to 1', () => {
    assert.equal(validateAudioMessage({ payload: Buffer.alloc(8), audio: { sampleRate: 48000, channels: 2 } }).frames, 2);
    assert.equal(validateAudioMessage({ payload: Buffer.alloc(4), audio: { sampleRate: 8000 } }).format.channels, 1);
  });

  const bad: [string, { payload?: unknown; audio?: unknown }, string, RegExp][] = [
    ['no payload', { audio }, 'NO_PAYLOAD', /missing/],
    ['a string payload', { payload: 'hello', audio }, 'NO_PAYLOAD', /string/],
    ['an empty payload', { payload: Buffer.alloc(0), audio }, 'EMPTY_PAYLOAD', /empty/],
    ['an odd byte count', { payload: Buffer.alloc(641), audio }, 'ODD_BYTES', /641 bytes/],
    ['a stereo frame cut mid-sample', { payload: Buffer.alloc(6), audio: { ...audio, channels: 2 } }, 'ODD_BYTES', /multiple of 4/],
    ['no msg.audio', { payload: Buffer.alloc(2) }, 'NO_AUDIO_INFO', /msg\.audio is missing/],
    ['a sample rate in kHz', { payload: Buffer.alloc(2), audio: { ...audio, sampleRate: 16 } }, 'BAD_SAMPLE_RATE', /16/],
    ['a NaN sample rate', { payload: Buffer.alloc(2), audio: { ...audio, sampleRate: NaN } }, 'BAD_SAMPLE_RATE', /NaN/],
    ['zero channels', { payload: Buffer.alloc(2), audio: { ...audio, channels: 0 } }, 'BAD_CHANNELS', /channels/],
    ['float samples', { payload: Buffer.alloc(4), audio: { ...audio, format: 'f32le' } }, 'BAD_FORMAT', /f32le/],
    ['11 s in one message', { payload: Buffer.alloc(16000 * 2 * 11), audio }, 'TOO_LONG', /11\.0 s/],
    ['50 MB at 384 kHz x 8 channels (under 10 s)', { payload: Buffer.alloc(384000 * 16 * 8), audio: { ...audio, sampleRate: 384000, channels: 8 } }, 'TOO_BIG', /49152000 bytes; frames must be at most 393216 bytes/],
  ];
  for (const [what, msg, code, message] of bad) {
    it(`refuses ${what} with ${code}`, () => {
      assert.throws(() => validateAudioMessage(msg), { name: 'AudioFrameError', code, message });
    });
  }
});
