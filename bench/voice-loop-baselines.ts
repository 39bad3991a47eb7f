/**
 * The bare engines of bench/voice-loop: each step of the voice loop done by
 * the engine module alone, called on this thread (no worker, no controller, no
 * Node-RED), with the models, settings and audio the flow gets. What the flow
 * takes beyond these is the cost of our plumbing.
 */
import { join } from 'node:path';
import { createEngine as createAsrEngine, type AsrEvent, type AsrOptions } from '../lib/asr/asr-engine';
import { PlaybackQueue } from '../lib/audio-io/playback-queue';
import { WavFileOutput } from '../lib/audio-io/wav-file-output';
import type { CallContext, Engine } from '../lib/engine/engine';
import { SentenceChunker } from '../lib/text/sentence-chunker';
import { createEngine as createTtsEngine, type SynthesizeRequest } from '../lib/tts/piper-engine';
import { SileroVad, VAD_SAMPLE_RATE, type VadSettings } from '../lib/vad/silero-vad';
import type { LlmSettings } from '../nodes/llama-llm/controller';
import type { ChatMessage } from '../nodes/llama-llm/engine';
import { EmbeddedEngine, type EmbeddedOptions } from '../nodes/llama-llm/embedded-engine';
import { tone } from '../test/support/signal';
import { sleep } from '../test/support/wait';

/** A call context for an engine called directly: nothing cancels, chunks go to `emit`. */
const direct = (emit: (chunk: unknown) => void): CallContext => ({ signal: new AbortController().signal, emit });

/** The clip in mic-sized frames. */
function* frames(clip: Float32Array, frame: number): Generator<Float32Array> {
  for (let i = 0; i < clip.length; i += frame) yield clip.subarray(i, i + frame);
}

export interface BareSettings {
  asr: AsrOptions;
  llm: { engine: EmbeddedOptions; settings: LlmSettings };
  tts: { modelPath: string; threads: number; synth: Omit<SynthesizeRequest, 'text'> };
  sink: { path: string; sampleRate: number; framesPerBuffer: number };
  /** The mic clip as the asr node hears it, and its frame size. */
  clip: Float32Array;
  frame: number;
}

/**
 * The voice loop's steps on the bare engines, one turn at a time, so that a
 * bench can run them between the flow's turns: both then meet the same load
 * of a shared machine, and the same warm-up (none beyond what the nodes do).
 * Each turn's input is the previous step's output, as in the flow.
 */
export class BareVoiceLoop {
  private readonly sink: WavFileOutput;
  private playedAt = 0;

  private constructor(
    private readonly settings: BareSettings,
    private readonly asr: Engine,
    private readonly llm: EmbeddedEngine,
    /** The system prompt as the node joins it. */
    private readonly head: ChatMessage[],
    private readonly tts: Engine,
  ) {
    const { path, sampleRate, framesPerBuffer } = settings.sink;
    this.sink = new WavFileOutput(path, sampleRate, framesPerBuffer, () => (this.playedAt = performance.now()));
  }

  static async start(settings: BareSettings): Promise<BareVoiceLoop> {
    const asr = createAsrEngine(settings.asr);
    const { systemPrompt, style } = settings.llm.settings;
    const system = [systemPrompt, style].filter((s) => s.trim()).join('\n\n');
    const head = system ? [{ role: 'system' as const, content: system }] : [];
    const llm = new EmbeddedEngine(settings.llm.engine);
    // The node's warm-up: the prompt prefix is cached as in the node.
    await llm.start([...head, { role: 'user', content: 'Hello' }]);
    const tts = await createTtsEngine({ modelPath: settings.tts.modelPath, threads: settings.tts.threads });
    return new BareVoiceLoop(settings, asr, llm, head, tts);
  }

  /** One turn: each step's milliseconds, in the order of the voice loop, and the transcript it answered. */
  async turn(): Promise<{ ms: [asr: number, llm: number, tts: number, sink: number]; transcript: string }> {
    const heard = this.endToFinal();
    const answer = await this.firstChunk(heard.text);
    return { ms: [heard.ms, answer.ms, await this.firstAudio(answer.chunks), this.firstPlayed()], transcript: heard.text };
  }

  async close(): Promise<void> {
    this.sink.close();
    await this.tts.dispose?.();
    await this.llm.close();
  }

  /**
   * speech-end → final transcript over one pass of the clip, fed frame by
   * frame, then flushed (the end of the recording, as mic-in sends it). The
   * engine lives for all turns, like the asr node's, so it meets each pass in
   * the state the flow's does. Both events leave the same call: the time
   * between them is the engine's own.
   */
  private endToFinal(): { ms: number; text: string } {
    let endedAt = 0;
    let final: { ms: number; text: string } | undefined;
    const ctx = direct((chunk) => {
      const e = chunk as AsrEvent;
      if (e.type === 'speech-end') endedAt = performance.now();
      if (e.type === 'final') final ??= { ms: performance.now() - endedAt, text: e.text };
    });
    for (const f of frames(this.settings.clip, this.settings.frame)) this.asr.handle('audio', f, ctx);
    this.asr.handle('flush', undefined, ctx);
    if (!final) throw new Error('the bare asr engine heard no utterance in the clip');
    return final;
  }

  /**
   * Transcript → the first chunk the llama-llm node would send: the engine
   * streams the reply to the node's prompt (system prompt and transcript,
   * fresh history) to its end, as in the node; the node's sentence chunker
   * (µs per token; where it cuts is the step's inherent wait) says when a
   * chunk is complete. Returns all the reply's chunks.
   */
  private async firstChunk(transcript: string): Promise<{ ms: number; chunks: string[] }> {
    const chunker = new SentenceChunker(this.settings.llm.settings.chunker);
    const chunks: string[] = [];
    let at = 0;
    const t0 = performance.now();
    await this.llm.generate({
      messages: [...this.head, { role: 'user', content: transcript }],
      sampling: this.settings.llm.settings.sampling,
      signal: new AbortController().signal,
      onText: (piece) => {
        chunks.push(...chunker.push(piece));
        if (!at && chunks.length) at = performance.now();
      },
    });
    // The rest goes out when the reply ends: then also the first chunk, if no sentence ended before.
    chunks.push(chunker.flush().join(' '));
    return { ms: (at || performance.now()) - t0, chunks };
  }

  /**
   * First chunk → the Piper engine's first audio, same voice and synthesis
   * settings, run alone (in the flow the LLM is still decoding the rest of
   * the reply meanwhile). The other chunks are spoken too (untimed), as
   * piper-tts does: the same work, so the same warm-up.
   */
  private async firstAudio(chunks: string[]): Promise<number> {
    let first = 0;
    const t0 = performance.now();
    for (const text of chunks.filter((c) => c.trim())) {
      await this.tts.handle('synthesize', { ...this.settings.tts.synth, text }, direct(() => (first ||= performance.now())));
    }
    if (!first) throw new Error(`the bare Piper engine made no audio for ${JSON.stringify(chunks)}`);
    return first - t0;
  }

  /** One buffer into the idle WAV speaker → it reports the buffer played (speaker-out's sink, without the node). */
  private firstPlayed(): number {
    const t0 = performance.now();
    this.sink.write(new Int16Array(this.settings.sink.framesPerBuffer));
    return this.playedAt - t0;
  }
}

/**
 * Speech onset → the VAD is sure, per pass of the clip, on a real-time
 * microphone: the frames from the onset's to the deciding one arrive a frame
 * apart (no engine hears them sooner), plus the deciding push's compute. The
 * onset is where the VAD dates the speech's first sample. One VAD for all
 * passes, fed what the flow's asr hears, so the flow's VAD decides at the same
 * samples: `onsetFrame` is the mic frame (from the clip's start) to measure the
 * flow from, `vadStartMs` what the asr node will report as vad_start_ms.
 */
export function vadOnset(settings: VadSettings, clip: Float32Array, frame: number, passes: number): { ms: number[]; onsetFrame: number[]; vadStartMs: number[] } {
  const vad = new SileroVad(settings);
  const ms = (samples: number) => (samples / VAD_SAMPLE_RATE) * 1000;
  const found = { ms: [] as number[], onsetFrame: [] as number[], vadStartMs: [] as number[] };
  for (let pass = 0; pass < passes; pass++) {
    const from = vad.position;
    let k = 0;
    for (const f of frames(clip, frame)) {
      const t0 = performance.now();
      const start = vad.push(f).find((e) => e.type === 'speech-start');
      const computeMs = performance.now() - t0;
      if (start && found.ms.length === pass) {
        const onset = Math.floor((start.start - from) / frame);
        found.ms.push(ms((k - onset) * frame) + computeMs);
        found.onsetFrame.push(onset);
        found.vadStartMs.push(Math.round(ms(start.at - start.start)));
      }
      k++;
    }
    vad.flush();
    if (found.ms.length === pass) throw new Error(`the bare VAD heard no speech in pass ${pass + 1} of the clip`);
  }
  return found;
}

/** cancel() → the turn's end reported, on the bare playback queue playing into the WAV speaker. */
export async function queueCancel(dir: string, sampleRate: number, framesPerBuffer: number, runs: number): Promise<number[]> {
  let endedAt = 0;
  const queue = new PlaybackQueue({ sampleRate, framesPerBuffer }, { started: () => undefined, ended: () => (endedAt = performance.now()) });
  const sink = new WavFileOutput(join(dir, 'bare-queue.wav'), sampleRate, framesPerBuffer, () => queue.onPlayed());
  queue.attach(sink);
  const ms: number[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      queue.enqueue({ turnId: `bare-${i}`, samples: tone(sampleRate, 1), complete: true });
      await sleep(100); // mid-reply: buffers in flight, more pending
      const t0 = performance.now();
      queue.cancel(() => true);
      if (endedAt < t0) throw new Error('the bare queue ended the turn before the cancel');
      if (i > 0) ms.push(endedAt - t0);
    }
  } finally {
    queue.close();
    sink.close();
  }
  return ms;
}
