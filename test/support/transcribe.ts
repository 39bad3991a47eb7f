import type { AsrEvent } from '../../lib/asr/asr-engine';
import { EngineHost } from '../../lib/engine/host';
import { TEST_VAD } from './vad';

/**
 * What a recogniser already running in `host` (the asr engine) hears in 16 kHz
 * audio: the final transcripts of every utterance, joined. The audio goes in as
 * a microphone would send it, 20 ms at a time, with a second of silence after.
 */
export async function transcribeWith(host: EngineHost, samples: Float32Array): Promise<string> {
  const audio = new Float32Array(samples.length + 16000);
  audio.set(samples);
  const finals: string[] = [];
  for (let i = 0; i < audio.length; i += 320) {
    for (const e of await host.call<AsrEvent[]>('audio', audio.slice(i, i + 320))) if (e.type === 'final') finals.push(e.text);
  }
  for (const e of await host.call<AsrEvent[]>('flush', new Float32Array(0))) if (e.type === 'final') finals.push(e.text);
  return finals.join(' ').trim();
}

/** transcribeWith, on a recogniser (a sherpa-onnx model folder) started for this audio alone. */
export async function transcribe(modelDir: string, samples: Float32Array): Promise<string> {
  const host = new EngineHost({ modulePath: require.resolve('../../lib/asr/asr-engine'), name: 'asr', options: { vad: TEST_VAD, modelDir } });
  try {
    return await transcribeWith(host, samples);
  } finally {
    await host.close();
  }
}
