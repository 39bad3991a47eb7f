import { SPEECH_RATE } from '../../lib/audio/format';
import { AudioInlet } from '../../lib/audio/inlet';
import { downmix } from '../../lib/audio/pcm';
import { resample } from '../../lib/audio/resample';
import { validateAudioMessage } from '../../lib/audio/validate';
import { parseWav } from '../../lib/audio/wav';
import { inputError } from '../../lib/coded-error';
import { isControlMessage, isFlush, metrics, parseControl, type ControlPayload } from '../../lib/messages';
import type { ProfileStore } from '../../lib/voiceprint/profile-store';
import type { VoiceprintEvent } from '../../lib/voiceprint/voiceprint-engine';

export type VoiceprintMode = 'tag' | 'gate' | 'reject-self';

export interface VoiceprintSettings {
  mode: VoiceprintMode;
  /** Cosine score from which a voice counts as a match. */
  threshold: number;
  /** The profile that holds the assistant's own voice (reject-self). */
  selfName: string;
  /** Seconds of played audio per automatic self-enrolment sample. */
  selfSampleSeconds: number;
  /** Self-enrolment stops after this many samples. */
  selfSamples: number;
  /**
   * How long the VAD needs to be sure of speech, plus the onset margin: gate
   * and reject-self delay all audio this much.
   */
  delayMs: number;
}

export interface VoiceprintDeps {
  stream(samples: Float32Array): Promise<VoiceprintEvent[]>;
  enrol(samples: Float32Array): Promise<number[]>;
  store: ProfileStore;
  readFile(path: string): Promise<Buffer>;
}

export interface VoiceprintOutputs {
  audio(msg: Record<string, unknown>): void;
  /** Decisions (metrics), enrolment results and profile lists. */
  events(msg: Record<string, unknown>): void;
  status(kind: 'busy' | 'ready' | 'idle' | 'waiting' | 'failed', text: string): void;
  /** A failure that comes after the message that caused it had been handled (a live enrolment): node.error(err, msg). */
  error(err: Error, msg: Record<string, unknown>): void;
}

type Held = Record<string, unknown>;

const ONSET_MARGIN_MS = 150;

/**
 * The voiceprint node's behaviour. Frames pass in order; during speech, the
 * gate and reject-self modes hold them until the voice is known (at most
 * `decisionSeconds` of speech), then release or drop the whole segment.
 */
export class VoiceprintController {
  private readonly inlet = new AudioInlet(SPEECH_RATE);
  private chain: Promise<void> = Promise.resolve();
  /** undefined: not in speech; 'pending': in speech, voice not known yet. */
  private segment: undefined | 'pending' | { allow: boolean; speaker: { name: string; score: number } };
  private segmentStartMs = 0;
  /**
   * Gate and reject-self: frames wait here until it is known whether they are
   * speech, and whose. The VAD is sure of speech only `delayMs` after it
   * starts, so even silence waits that long: no word of a stranger slips out.
   */
  private waiting: { msg: Held; startMs: number }[] = [];
  /** Stream time of the audio handed to the engine so far. */
  private streamMs = 0;
  private live: { name: string; need: number; chunks: Float32Array[]; got: number; msg: Record<string, unknown> } | undefined;
  private self = { chunks: [] as Float32Array[], got: 0, samples: 0 };

  constructor(
    private readonly deps: VoiceprintDeps,
    private readonly settings: VoiceprintSettings,
    private readonly out: VoiceprintOutputs,
  ) {}

  handle(msg: Record<string, unknown>): Promise<void> {
    if (isControlMessage(msg)) return this.control(parseControl(msg), msg);
    if (msg.profiles === 'list') return Promise.resolve(this.listProfiles());
    if (typeof msg.forget === 'string') {
      this.deps.store.remove(msg.forget);
      this.listProfiles();
      return Promise.resolve();
    }
    if (msg.enroll !== undefined) return this.enrolRequest(msg);
    if (isFlush(msg)) return this.flush(msg);
    const { format, pcm } = validateAudioMessage(msg);
    const samples = this.inlet.toFloat(pcm, format.sampleRate, format.channels);
    if (msg.reference === true) return this.reference(samples);
    if (this.live) this.collectLive(samples);
    const startMs = this.streamMs;
    this.streamMs += (samples.length / SPEECH_RATE) * 1000;
    const endMs = this.streamMs;
    // Sent at once (the engine takes frames in order), routed in order: a burst does not wait one round trip per frame.
    // The samples are this frame's own (the inlet made them): they go to the engine as they are.
    const events = this.deps.stream(samples);
    events.catch(() => undefined);
    const run = this.chain.then(async () => this.route(msg, startMs, endMs, await events));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The engine has (re)loaded. */
  ready(): void {
    const voices = this.deps.store.names().length;
    this.out.status('ready', voices ? `${voices} voices` : 'no voices yet');
  }

  /**
   * The engine crashed and is restarting: the frames sent to it are lost, and
   * the new one's VAD counts from zero, from the next frame on, and knows
   * nothing of the speech in progress. Frames still waiting leave by what was
   * known of them; undecided speech counts as not the enrolled voice (gate
   * drops it, reject-self passes it).
   */
  restarted(): void {
    const seg = this.segment;
    if (seg === 'pending') this.segment = { allow: this.settings.mode !== 'gate', speaker: { name: 'unknown', score: 0 } };
    if (this.settings.mode !== 'tag') this.release(Infinity);
    this.segment = undefined;
    this.streamMs = 0;
  }

  /** The control wire: a flush ends the recording as msg.flush does; the rest concerns the assistant's turns, not who speaks. */
  private control(c: ControlPayload, msg: Record<string, unknown>): Promise<void> {
    return c.type === 'flush' ? this.flush(msg) : Promise.resolve();
  }

  /** The end of a recording (mic-in stopped, muted, file done) passes on after the frames before it. */
  private flush(msg: Held): Promise<void> {
    const run = this.chain.then(() => {
      if (this.settings.mode !== 'tag') this.release(Infinity);
      this.out.audio(msg);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Handles one frame once the engine has seen it; `endMs` is the stream time the engine has reached. */
  private route(msg: Held, startMs: number, endMs: number, events: VoiceprintEvent[]): void {
    const tagging = this.settings.mode === 'tag';
    if (!tagging) this.waiting.push({ msg, startMs });
    for (const e of events) {
      if (e.type === 'speech-start') {
        this.segment = 'pending';
        // The VAD's onset is an estimate (±100 ms): start the segment a little earlier so no syllable slips out.
        this.segmentStartMs = e.speechStartMs - ONSET_MARGIN_MS;
      } else if (e.type === 'decision') {
        this.decide(e);
        if (!tagging) this.release(Infinity);
      } else {
        this.segment = undefined;
      }
    }
    if (tagging) {
      const seg = this.segment;
      this.out.audio(seg && seg !== 'pending' ? { ...msg, speaker: seg.speaker } : msg);
      return;
    }
    // In speech, frames wait for the decision; before it, they wait out the VAD's delay.
    this.release(this.segment === 'pending' ? this.segmentStartMs : endMs - this.settings.delayMs);
  }

  /** Sends or drops waiting frames that start before `untilMs`, by what is known of them. */
  private release(untilMs: number): void {
    const seg = this.segment;
    while (this.waiting.length && this.waiting[0].startMs < untilMs) {
      const { msg, startMs } = this.waiting.shift()!;
      const inSegment = seg !== undefined && seg !== 'pending' && startMs >= this.segmentStartMs;
      if (!inSegment) this.out.audio(msg);
      else if (seg.allow) this.out.audio(this.settings.mode === 'reject-self' ? msg : { ...msg, speaker: seg.speaker });
    }
  }

  private decide(e: Extract<VoiceprintEvent, { type: 'decision' }>): void {
    const { mode, threshold, selfName } = this.settings;
    const store = this.deps.store;
    const best = mode === 'reject-self' ? store.best(e.embedding, (n) => n === selfName) : store.best(e.embedding, (n) => n !== selfName);
    const matched = best !== undefined && best.score >= threshold;
    const speaker = { name: matched ? best.name : 'unknown', score: Math.round((best?.score ?? 0) * 1000) / 1000 };
    const allow = mode === 'tag' || (mode === 'gate' ? matched : !matched);
    this.segment = { allow, speaker };
    this.out.events(metrics('voiceprint', undefined, { decision_ms: Math.round(e.heardMs), score: speaker.score, name: speaker.name, allowed: allow, mode }));
    this.out.status(allow ? 'ready' : 'idle', `${speaker.name} ${speaker.score.toFixed(2)}${allow ? '' : ' ✗'}`);
  }

  private listProfiles(): void {
    this.out.events({ topic: 'voiceprint-profiles', payload: this.deps.store.names() });
  }

  private async enrolRequest(msg: Record<string, unknown>): Promise<void> {
    const name = msg.enroll;
    if (typeof name !== 'string' || !name.trim()) throw inputError('msg.enroll must be the name of the voice to enrol');
    let wav: Buffer | undefined;
    if (Buffer.isBuffer(msg.payload) && msg.payload.subarray(0, 4).toString('ascii') === 'RIFF') wav = msg.payload;
    else if (typeof msg.filename === 'string') wav = await this.deps.readFile(msg.filename);
    if (!wav) {
      // Live: the next N seconds of audio through this node are the sample.
      const seconds = typeof msg.seconds === 'number' && msg.seconds > 0 ? msg.seconds : 5;
      this.live = { name, need: seconds * SPEECH_RATE, chunks: [], got: 0, msg };
      this.out.status('busy', `recording ${name}`);
      return;
    }
    const audio = parseWav(wav);
    const mono = downmix(audio.samples, audio.channels);
    await this.enrolSamples(name, resample(mono, audio.sampleRate, SPEECH_RATE));
  }

  private collectLive(samples: Float32Array): void {
    const live = this.live!;
    live.chunks.push(new Float32Array(samples));
    live.got += samples.length;
    if (live.got < live.need) return;
    this.live = undefined;
    const all = concat(live.chunks);
    this.enrolSamples(live.name, all).catch((err: Error) => {
      this.out.status('failed', (err as { statusText?: string }).statusText ?? 'enrolment failed');
      this.out.events({ topic: 'voiceprint-enrol', payload: { name: live.name, ok: false, error: err.message } });
      this.out.error(err, live.msg);
    });
  }

  private async enrolSamples(name: string, samples: Float32Array): Promise<void> {
    const embedding = await this.deps.enrol(samples);
    const profile = this.deps.store.enrol(name, embedding);
    this.out.events({ topic: 'voiceprint-enrol', payload: { name, ok: true, samples: profile.samples } });
    this.out.status('ready', `enrolled ${name}`);
  }

  /** Audio the assistant played: in reject-self mode it teaches the node the assistant's voice. */
  private async reference(samples: Float32Array): Promise<void> {
    const { mode, selfName, selfSampleSeconds, selfSamples } = this.settings;
    if (mode !== 'reject-self' || this.self.samples >= selfSamples) return;
    this.self.chunks.push(samples);
    this.self.got += samples.length;
    if (this.self.got < selfSampleSeconds * SPEECH_RATE) return;
    const audio = concat(this.self.chunks);
    this.self.chunks = [];
    this.self.got = 0;
    try {
      this.deps.store.enrol(selfName, await this.deps.enrol(audio));
      this.self.samples++;
    } catch {
      // Played audio with too little speech (music, a chime) teaches nothing: wait for more.
    }
  }
}

function concat(chunks: Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
