/**
 * Real CPU-bound engine work for the event-loop benchmark and the engine-host
 * test: Silero VAD (sherpa-onnx, native) over a WAV file, as many passes as asked.
 */
import { readFileSync } from 'node:fs';
import { parseWav } from '../../lib/audio/wav';
import { yieldToEvents, type CallContext, type Engine } from '../../lib/engine/engine';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

interface Options {
  model: string;
  wav: string;
}

const WINDOW = 512;

export function createEngine({ model, wav }: Options): Engine {
  const audio = parseWav(readFileSync(wav));
  if (audio.sampleRate !== 16000 || audio.channels !== 1) throw new Error(`${wav} must be 16 kHz mono`);
  const makeVad = () =>
    new sherpa.Vad(
      {
        sileroVad: { model, threshold: 0.5, minSpeechDuration: 0.25, minSilenceDuration: 0.5, maxSpeechDuration: 20, windowSize: WINDOW },
        sampleRate: 16000,
        numThreads: 1,
        debug: false,
      },
      60,
    );
  return {
    async handle(method: string, payload: unknown, ctx: CallContext) {
      if (method !== 'segments') throw new Error(`unknown method ${method}`);
      const passes = (payload as { passes?: number })?.passes ?? 1;
      const until = (payload as { untilMs?: number })?.untilMs;
      let segments: { start: number; end: number }[] = [];
      let done = 0;
      while ((until ? Date.now() < until : done < passes) && !ctx.signal.aborted) {
        const vad = makeVad();
        segments = [];
        for (let i = 0; i + WINDOW <= audio.samples.length; i += WINDOW) {
          vad.acceptWaveform(audio.samples.subarray(i, i + WINDOW));
          while (!vad.isEmpty()) {
            const seg = vad.front(false);
            segments.push({ start: seg.start / 16000, end: (seg.start + seg.samples.length) / 16000 });
            vad.pop();
          }
        }
        vad.flush();
        while (!vad.isEmpty()) {
          const seg = vad.front(false);
          segments.push({ start: seg.start / 16000, end: (seg.start + seg.samples.length) / 16000 });
          vad.pop();
        }
        done++;
        ctx.emit(done);
        await yieldToEvents();
      }
      return { passes: done, segments };
    },
  };
}
