import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { float32ToS16le } from '../../lib/audio/pcm';
import asrNode from '../../nodes/asr/asr';
import { collect } from './node-red';
import { SHARED_MODELS } from './paths';
import { sleep, until } from './wait';

helper.init(require.resolve('node-red'));

const RATE = 16000;
const FRAME = 320;
/** Silence around each clip: a lead-in for the VAD, and enough after it for the VAD to end the utterance. */
const BEFORE_S = 0.5;
const AFTER_S = 1.5;

/** A clip with the silence the node hears around it. */
export function withSilence(samples: Float32Array): Float32Array {
  const audio = new Float32Array(Math.round((BEFORE_S + AFTER_S) * RATE) + samples.length);
  audio.set(samples, Math.round(BEFORE_S * RATE));
  return audio;
}

/** What the asr node made of one clip. */
export interface HeardClip {
  /** Its final transcripts, joined. */
  text: string;
  /** Per utterance with words: ms from the speech-end control message to the final transcript. */
  endToFinalMs: number[];
  /** Per utterance: the recogniser's compute time, as the node's metrics report it (decode_ms). */
  decodeMs: number[];
  /** Per utterance with words: speech-end → final less its decode_ms, the time our plumbing adds. */
  overheadMs: number[];
}

type Msg = { turnId?: string; partial?: boolean; payload?: unknown; control?: { type: string } };

/**
 * Plays clips (16 kHz mono samples) through a real asr node in the Node-RED runtime, as a
 * microphone would: 20 ms s16le frames at the pace of real time, with silence around each
 * clip, then a flush. Each clip's utterances are awaited (one metrics message per
 * speech-start) before the next clip starts. The node is unloaded at the end.
 */
export async function hearThroughAsrNode(modelDir: string, clips: Float32Array[], language = ''): Promise<HeardClip[]> {
  const flow = [
    { id: 'f1', type: 'tab' },
    { id: 'rec', z: 'f1', type: 'asr', modelDir, vadModel: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), language, wires: [['text'], ['control'], ['metrics']] },
    { id: 'text', z: 'f1', type: 'helper' },
    { id: 'control', z: 'f1', type: 'helper' },
    { id: 'metrics', z: 'f1', type: 'helper' },
  ];
  await helper.load(asrNode, flow as never);
  try {
    const at = new Map<string, number>();
    const controls: Msg[] = [];
    helper.getNode('control').on('input', (m: Msg) => {
      controls.push(m);
      if (m.control?.type === 'speech-end') at.set(m.turnId!, performance.now());
    });
    const finals: { msg: Msg; ms: number }[] = [];
    helper.getNode('text').on('input', (m: Msg) => {
      if (!m.partial) finals.push({ msg: m, ms: performance.now() - (at.get(m.turnId!) ?? NaN) });
    });
    const metrics = collect<Msg & { payload: { decode_ms?: number } }>('metrics');
    const asr = helper.getNode('rec');
    const out: HeardClip[] = [];
    for (const [n, clip] of clips.entries()) {
      const audio = withSilence(clip);
      const [firstFinal, firstMetric, firstControl] = [finals.length, metrics.length, controls.length];
      const t0 = performance.now();
      for (let i = 0; i + FRAME <= audio.length; i += FRAME) {
        const due = t0 + (i / RATE) * 1000;
        if (due > performance.now()) await sleep(due - performance.now());
        asr.receive({ topic: 'audio', payload: float32ToS16le(audio.subarray(i, i + FRAME)), audio: { sampleRate: RATE, channels: 1, format: 's16le' } } as never);
      }
      asr.receive({ flush: true } as never);
      const starts = () => controls.slice(firstControl).filter((c) => c.control?.type === 'speech-start').length;
      await until(() => starts() > 0 && metrics.length - firstMetric === starts(), 60_000, `the asr node to finish clip ${n}`);
      const mine = finals.slice(firstFinal);
      const decoded = new Map(metrics.slice(firstMetric).flatMap((m) => (typeof m.payload.decode_ms === 'number' ? [[m.turnId!, m.payload.decode_ms] as const] : [])));
      out.push({
        text: mine.map((f) => f.msg.payload as string).join(' ').trim(),
        endToFinalMs: mine.map((f) => f.ms),
        decodeMs: [...decoded.values()],
        overheadMs: mine.map((f) => f.ms - (decoded.get(f.msg.turnId!) ?? NaN)),
      });
    }
    return out;
  } finally {
    await helper.unload();
  }
}
