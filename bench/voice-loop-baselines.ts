/**
 * The bare engines of bench/voice-loop: the voice loop's steps done by the
 * engines alone, with the models, settings and audio the flow gets, and run
 * the way the nodes run them, so that both do the same work on the same
 * threads in the same order: what the flow takes beyond these is the cost of
 * our plumbing (Node-RED routing, the node controllers, their messages).
 *
 * - asr: lib/asr/asr-engine in an EngineHost worker, as the asr node runs it,
 *   fed the mic clip frame by frame at real-time pace, as mic-in feeds it;
 * - llm: lib/llm/embedded-engine on this thread (llama.cpp decodes on
 *   its own threads, the text callbacks come here), as the llama-llm node
 *   runs it, its text cut by the node's SentenceChunker;
 * - tts: lib/tts/piper-engine in an EngineHost worker, as the piper-tts node
 *   runs it, one chunk at a time in order, each chunk handed over the moment
 *   the chunker has it: Piper speaks the first sentence WHILE llama.cpp
 *   decodes the rest of the reply, as in the flow (on a 2-core machine the
 *   two contend, which is not plumbing);
 * - sink: speaker-out's playback queue and WAV sink, as speaker-out plays a
 *   WAV file, given the first frame (piper-tts's frame size) the moment the
 *   first audio arrives (the LLM and Piper may still be busy then too).
 *
 * So the baseline holds the EngineHost's message hop (a postMessage each way,
 * measured and printed as a diagnostic) but no controller, no Node-RED
 * message and none of the nodes' framing and status work.
 */
import { join } from 'node:path';
import type { AsrEvent, AsrOptions } from '../lib/asr/asr-engine';
import { SPEECH_RATE } from '../lib/audio/format';
import { float32ToInt16 } from '../lib/audio/pcm';
import { PlaybackQueue } from '../lib/audio-io/playback-queue';
import { WavFileOutput } from '../lib/audio-io/wav-file-output';
import { EngineHost } from '../lib/engine/host';
import { SentenceChunker } from '../lib/text/sentence-chunker';
import type { SentenceAudio, SynthesizeRequest } from '../lib/tts/piper-engine';
import { SileroVad, VAD_SAMPLE_RATE, type VadSettings } from '../lib/vad/silero-vad';
import { warmUpMessages, type LlmSettings } from '../nodes/llama-llm/controller';
import type { ChatMessage } from '../lib/llm/engine';
import { EmbeddedEngine, type EmbeddedOptions } from '../lib/llm/embedded-engine';
import { tone } from '../test/support/signal';
import { sleep } from '../test/support/wait';

/** The clip in mic-sized frames. */
function* frames(clip: Float32Array, frame: number): Generator<Float32Array> {
  for (let i = 0; i < clip.length; i += frame) yield clip.subarray(i, i + frame);
}

export interface BareSettings {
  asr: AsrOptions;
  llm: { engine: EmbeddedOptions; settings: LlmSettings };
  tts: { modelPath: string; threads: number; synth: Omit<SynthesizeRequest, 'text'>; frameMs: number };
  sink: { path: string; sampleRate: number; framesPerBuffer: number };
  /** The mic clip as the asr node hears it, and its frame size. */
  clip: Float32Array;
  frame: number;
}

/** What one bare turn measured. */
export interface BareTurn {
  /** Each step's milliseconds, in the order of the voice loop (the flow's stages). */
  ms: [asr: number, llm: number, tts: number, sink: number];
  transcript: string;
  /** The reply's first chunk, as llama-llm would send it. */
  firstChunk: string;
  /** Not compared with the flow (printed as diagnostics): where the tts step's time goes. */
  notes: {
    /** Piper's own first audio of the first chunk, timed inside its worker (piper-engine's firstAudioMs). */
    piperInWorker: number;
    /** The tts step less that: the EngineHost hop, there and back. */
    hostHop: number;
    /** The first chunk spoken again by the same bare Piper once the LLM is done: the tts step without contention. */
    piperAlone: number;
    /** How long the LLM went on decoding after its first chunk. */
    llmAfterFirstChunk: number;
  };
}

/**
 * The voice loop on the bare engines, one turn at a time, so that a bench can
 * run them between the flow's turns: both then meet the same load of a shared
 * machine, and the same warm-up (none beyond what the nodes do). Each turn's
 * input is the previous step's output, as in the flow.
 */
export class BareVoiceLoop {
  private readonly queue: PlaybackQueue;
  private readonly sink: WavFileOutput;
  private playedAt = 0;
  private turns = 0;

  private constructor(
    private readonly settings: BareSettings,
    private readonly asr: EngineHost,
    private readonly llm: EmbeddedEngine,
    /** The system prompt as the node joins it. */
    private readonly head: ChatMessage[],
    private readonly tts: EngineHost,
  ) {
    const { path, sampleRate, framesPerBuffer } = settings.sink;
    // speaker-out's player for a WAV file: its queue on the sink.
    this.queue = new PlaybackQueue({ sampleRate, framesPerBuffer }, { started: () => (this.playedAt = performance.now()), ended: () => undefined });
    this.sink = new WavFileOutput(path, sampleRate, framesPerBuffer, () => this.queue.onPlayed());
    this.queue.attach(this.sink);
  }

  static async start(settings: BareSettings): Promise<BareVoiceLoop> {
    // The engine modules and options the asr and piper-tts nodes hand their EngineHost.
    const asr = new EngineHost({ modulePath: require.resolve('../lib/asr/asr-engine'), name: 'bare asr', options: settings.asr });
    const tts = new EngineHost({ modulePath: require.resolve('../lib/tts/piper-engine'), name: 'bare piper', options: { modelPath: settings.tts.modelPath, threads: settings.tts.threads } });
    const warmUp = warmUpMessages(settings.llm.settings);
    const head = warmUp.filter((m) => m.role === 'system');
    const llm = new EmbeddedEngine(settings.llm.engine);
    try {
      // The node's warm-up: the prompt prefix is cached as in the node.
      await Promise.all([asr.start(), tts.start(), llm.start(warmUp)]);
    } catch (err) {
      await Promise.all([asr.close(), tts.close(), llm.close()]);
      throw err;
    }
    return new BareVoiceLoop(settings, asr, llm, head, tts);
  }

  /** One turn: the clip heard, answered and spoken. */
  async turn(): Promise<BareTurn> {
    const heard = await this.endToFinal();
    const answer = await this.answer(heard.text, `bare-${++this.turns}`);
    this.queue.cancel(() => true); // the rest of the reply is not played: the queue is idle for the next turn
    const piperAlone = await this.firstAudioAlone(answer.firstSpoken);
    return { ms: [heard.ms, answer.llm, answer.tts, answer.sink], transcript: heard.text, firstChunk: answer.firstChunk, notes: { ...answer.notes, piperAlone } };
  }

  /**
   * A typed question (no asr): question → first chunk → first audio → first
   * buffer played, as answer() times them; the rest of the reply is not played.
   */
  async typed(question: string): Promise<{ ms: [llm: number, tts: number, sink: number]; firstChunk: string }> {
    const answer = await this.answer(question, `bare-${++this.turns}`);
    this.queue.cancel(() => true);
    return { ms: [answer.llm, answer.tts, answer.sink], firstChunk: answer.firstChunk };
  }

  async close(): Promise<void> {
    this.queue.close();
    this.sink.close();
    await Promise.all([this.asr.close(), this.tts.close(), this.llm.close()]);
  }

  /**
   * speech-end → final transcript over one pass of the clip, fed frame by
   * frame at real-time pace (as mic-in plays a WAV file), then flushed (the
   * end of the recording, as mic-in sends it); both events timed as they
   * reach this thread. The engine lives for all turns, like the asr node's,
   * so it meets each pass in the state the flow's does.
   */
  private async endToFinal(): Promise<{ ms: number; text: string }> {
    let endedAt = 0;
    let final: { ms: number; text: string } | undefined;
    const onChunk = (chunk: unknown) => {
      const e = chunk as AsrEvent;
      if (e.type === 'speech-end') endedAt = performance.now();
      if (e.type === 'final') final ??= { ms: performance.now() - endedAt, text: e.text };
    };
    const { clip, frame } = this.settings;
    const calls: Promise<unknown>[] = [];
    const started = performance.now();
    let k = 0;
    for (const f of frames(clip, frame)) {
      const wait = started + ((k++ * frame) / SPEECH_RATE) * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
      const samples = f.slice(); // the asr node hands over a fresh array per frame, transferred
      calls.push(this.asr.call('audio', samples, { transfer: [samples.buffer], onChunk }));
    }
    calls.push(this.asr.call('flush', undefined, { onChunk }));
    await Promise.all(calls);
    if (!final) throw new Error('the bare asr engine heard no utterance in the clip');
    return final;
  }

  /**
   * Transcript → first chunk → first audio → first buffer played, as a
   * pipeline: the LLM streams the reply to the node's prompt (system prompt
   * and transcript, fresh history) to its end, the node's sentence chunker
   * (µs per token; where it cuts is the step's inherent wait) says when a
   * chunk is complete, and each chunk goes to Piper at once, spoken one after
   * the other in order as piper-tts does (the rest, flushed at the end of the
   * reply, too). The first frame of the first audio Piper sends back goes
   * to the speaker at once.
   */
  private async answer(
    transcript: string,
    turnId: string,
  ): Promise<{ llm: number; tts: number; sink: number; firstChunk: string; firstSpoken: string; notes: Omit<BareTurn['notes'], 'piperAlone'> }> {
    const chunker = new SentenceChunker(this.settings.llm.settings.chunker);
    let chunkAt = 0;
    let frameAt = 0;
    let sinkMs = 0;
    let firstChunk: string | undefined;
    let firstSpoken: string | undefined;
    let piperInWorker: number | undefined;
    let speaking: Promise<unknown> = Promise.resolve();
    const speak = (chunks: string[]) => {
      if (!chunks.length) return;
      chunkAt ||= performance.now();
      firstChunk ??= chunks[0];
      for (const text of chunks.filter((c) => c.trim())) {
        const first = firstSpoken === undefined;
        firstSpoken ??= text;
        speaking = speaking
          .then(() =>
            this.tts.call<{ firstAudioMs: number | null }>(
              'synthesize',
              { ...this.settings.tts.synth, text },
              {
                onChunk: (sentence) => {
                  if (frameAt) return;
                  frameAt = performance.now();
                  sinkMs = this.firstPlayed(sentence as SentenceAudio, turnId);
                },
              },
            ),
          )
          .then((r) => {
            if (first) piperInWorker = r.firstAudioMs ?? undefined;
          });
        speaking.catch(() => undefined); // awaited below, once the reply has ended
      }
    };
    const t0 = performance.now();
    await this.llm.generate({
      messages: [...this.head, { role: 'user', content: transcript }],
      sampling: this.settings.llm.settings.sampling,
      signal: new AbortController().signal,
      onText: (piece) => speak(chunker.push(piece)),
    });
    const llmEnd = performance.now();
    // The rest goes out when the reply ends: then also the first chunk, if no sentence ended before.
    speak([chunker.flush().join(' ')]);
    await speaking;
    if (!frameAt || firstChunk === undefined || firstSpoken === undefined || piperInWorker === undefined) throw new Error(`the bare Piper engine made no audio for the reply to ${JSON.stringify(transcript)}`);
    const tts = frameAt - chunkAt;
    return { llm: chunkAt - t0, tts, sink: sinkMs, firstChunk, firstSpoken, notes: { piperInWorker, hostHop: tts - piperInWorker, llmAfterFirstChunk: llmEnd - chunkAt } };
  }

  /** The first chunk once more, nothing else running: call → Piper's first audio here. */
  private async firstAudioAlone(text: string): Promise<number> {
    let first = 0;
    const t0 = performance.now();
    await this.tts.call('synthesize', { ...this.settings.tts.synth, text }, { onChunk: () => (first ||= performance.now()) });
    return first - t0;
  }

  /**
   * The sentence's first frame, as piper-tts would send it, into the idle
   * speaker's queue → the sink takes it (speaker-out's player, without the
   * node).
   */
  private firstPlayed(sentence: SentenceAudio, turnId: string): number {
    const { sampleRate } = this.settings.sink;
    // speaker-out would resample; the bench's voice and speaker share a rate, so it does not.
    if (sentence.sampleRate !== sampleRate) throw new Error(`the voice speaks at ${sentence.sampleRate} Hz, the speaker plays ${sampleRate} Hz`);
    const frame = float32ToInt16(sentence.samples.subarray(0, Math.round((sampleRate * this.settings.tts.frameMs) / 1000)));
    const t0 = performance.now();
    this.queue.enqueue({ turnId, samples: frame, text: sentence.text, complete: false });
    if (this.playedAt < t0) throw new Error('the bare speaker did not start playing at once');
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
