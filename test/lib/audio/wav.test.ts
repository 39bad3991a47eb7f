import assert from 'node:assert/strict';
import { join } from 'node:path';
import { encodeWav, parseWav, readWavMono } from '../../../lib/audio/wav';
import { TESTDATA } from '../../support/paths';

function wavWith(format: number, bits: number, channels: number, data: Buffer): Buffer {
  const wav = encodeWav(new Int16Array(0), 16000, channels);
  wav.writeUInt16LE(format, 20);
  wav.writeUInt16LE(bits, 34);
  wav.writeUInt32LE(data.length, 40);
  return Buffer.concat([wav, data]);
}

describe('WAV files', () => {
  it('reads the real 16 kHz speech clips', async () => {
    const { sampleRate, samples } = await readWavMono(join(TESTDATA, 'arctic_aew_a0001.wav'));
    assert.equal(sampleRate, 16000);
    assert.equal(samples.length, (124206 - 44) / 2);
  });

  it('writes and reads back 16-bit mono exactly', () => {
    const ints = Int16Array.from([0, 100, -100, 32767, -32768]);
    const wav = parseWav(encodeWav(ints, 22050));
    assert.equal(wav.sampleRate, 22050);
    assert.deepEqual(
      Array.from(wav.samples, (s) => Math.round(s * 32768)),
      Array.from(ints),
    );
  });

  it('reads 24-bit, 32-bit float and stereo files', () => {
    const b24 = Buffer.from([0x00, 0x00, 0x40, 0x00, 0x00, 0xc0]);
    assert.deepEqual(Array.from(parseWav(wavWith(1, 24, 1, b24)).samples), [0.5, -0.5]);
    const f32 = Buffer.alloc(8);
    f32.writeFloatLE(0.25, 0);
    f32.writeFloatLE(-1, 4);
    const stereo = parseWav(wavWith(3, 32, 2, f32));
    assert.equal(stereo.channels, 2);
    assert.deepEqual(Array.from(stereo.samples), [0.25, -1]);
  });

  it('explains what is wrong with a file that is not a usable WAV', () => {
    assert.throws(() => parseWav(Buffer.from('ID3 not a wav at all')), { code: 'BAD_WAV', message: /RIFF/ });
    assert.throws(() => parseWav(encodeWav(new Int16Array(1), 16000).subarray(0, 36)), { code: 'BAD_WAV', message: /no data chunk/ });
    assert.throws(() => parseWav(wavWith(2, 4, 1, Buffer.alloc(4))), { code: 'BAD_WAV', message: /unsupported WAV encoding/ });
  });
});
