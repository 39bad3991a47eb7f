import { DelayEstimator } from './delay-estimator';
import { EchoPathFilter } from './echo-path-filter';
import { DoubleTalkDetector } from './double-talk';
import { ResidualSuppressor } from './residual-suppressor';

/** The canceller works at 16 kHz: callers resample microphone and reference alike. */
export const AEC_RATE = 16000;
/** 8 ms blocks: short enough for barge-in, long enough for cheap FFTs. */
const BLOCK = 128;
/** A change of the echo's delay (samples, 3 ms) that makes the filter start over. */
const MOVED = 48;
/** Mean square (int16 units) above which the reference counts as "the assistant is talking" (about -60 dBFS). */
const FAR_END_LEVEL = 1000;

export interface EchoCancellerOptions {
  /** Echo path length the filter models, after the bulk delay (ms). Default 128. */
  tailMs?: number;
  /** Largest speaker-to-microphone delay searched for (ms). Default 500. */
  maxDelayMs?: number;
  /** Step scale of the adaptive filter. Default 4 (tuned on the aec-room set). */
  stepScale?: number;
  /** Silence what is left while only the far end talks (default true; false shows the filter and suppressor alone). */
  cutEchoOnly?: boolean;
}

/** What the canceller knows after the last call. */
export interface EchoState {
  /** The reference played something whose echo may still be in the microphone. */
  farEnd: boolean;
  /** The cleaned signal still holds sound well above the residual echo: the user is talking. */
  nearEnd: boolean;
  /** Bulk delay between reference and microphone in use (ms). */
  delayMs: number;
  /** How much quieter the linear filter makes the echo (dB), as learnt while only the far end talked. */
  erleDb: number;
}

/**
 * Acoustic echo cancellation for the microphone path: give it each captured
 * buffer with the buffer the speaker played in the same period (same length,
 * 16 kHz), and it returns the capture with the speaker's sound removed —
 * bulk delay found and followed, echo path learnt by an adaptive filter,
 * what is left suppressed. Output is `latencySamples` behind the input.
 */
export class EchoCanceller {
  readonly latencySamples = 2 * BLOCK;
  private readonly filter: EchoPathFilter;
  private readonly suppressor = new ResidualSuppressor(BLOCK);
  private readonly doubleTalk = new DoubleTalkDetector();
  private readonly delays: DelayEstimator;
  /** Reference history for the bulk delay: a ring of `maxDelay + BLOCK` samples. */
  private readonly refRing: Float64Array;
  private refWrite = 0;
  private delay = 0;
  private readonly micBlock = new Float64Array(BLOCK);
  private readonly refBlock = new Float64Array(BLOCK);
  private readonly newestRef = new Float64Array(BLOCK);
  private readonly linearOut = new Float64Array(BLOCK);
  private readonly cleanBlock = new Float64Array(BLOCK);
  private filled = 0;
  private readonly farEnergy: number[];
  private farSum = 0;
  /** Cleaned samples not yet returned (the first `latencySamples` of them silence). */
  private pending: Float64Array;
  private pendingLength: number;

  private readonly cutEchoOnly: boolean;
  /** The delay estimator sees the echo elsewhere than where the filter learnt it: stale until it starts over. */
  private pathMoved = false;
  /** The delay (samples) the filter has been learning at, once the estimator was sure of it. */
  private alignedAt: number | undefined;

  constructor(options: EchoCancellerOptions = {}) {
    this.cutEchoOnly = options.cutEchoOnly ?? true;
    const partitions = Math.ceil(((options.tailMs ?? 128) * AEC_RATE) / 1000 / BLOCK);
    this.filter = new EchoPathFilter({ block: BLOCK, partitions, mu: options.stepScale ?? 4 });
    const maxDelay = Math.round(((options.maxDelayMs ?? 500) * AEC_RATE) / 1000);
    this.delays = new DelayEstimator(maxDelay, BLOCK * partitions);
    this.refRing = new Float64Array(maxDelay + BLOCK);
    // The echo of a block can reach the mic as late as the largest delay plus the tail.
    this.farEnergy = new Array<number>(Math.ceil(maxDelay / BLOCK) + partitions).fill(0);
    // The suppressor's first output is already one block of silence (its overlap).
    this.pending = new Float64Array(4 * BLOCK);
    this.pendingLength = this.latencySamples - BLOCK;
  }

  get state(): EchoState {
    return { farEnd: this.farEnd, nearEnd: this.doubleTalk.nearEnd, delayMs: (this.delay * 1000) / AEC_RATE, erleDb: this.doubleTalk.erleDb };
  }

  private get farEnd(): boolean {
    return this.farSum > FAR_END_LEVEL * BLOCK;
  }

  /** The far end plays and its echo may be in the microphone (a headset, say, has none to protect against). */
  private get echoPossible(): boolean {
    return this.farEnd && this.delays.echoHeard !== false;
  }

  /** `mic` and `reference`: int16 samples of the same period. Returns as many cleaned samples. */
  process(mic: Int16Array, reference: Int16Array): Int16Array {
    if (mic.length !== reference.length) throw new RangeError(`microphone and reference differ in length (${mic.length} and ${reference.length} samples)`);
    for (let i = 0; i < mic.length; i++) {
      this.micBlock[this.filled] = mic[i];
      this.refRing[this.refWrite] = reference[i];
      this.refWrite = (this.refWrite + 1) % this.refRing.length;
      if (++this.filled === BLOCK) {
        this.filled = 0;
        this.processBlock();
      }
    }
    const out = new Int16Array(mic.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(this.pending[i])));
    this.pending.copyWithin(0, mic.length, this.pendingLength);
    this.pendingLength -= mic.length;
    return out;
  }

  private processBlock(): void {
    const ring = this.refRing;
    // The newest block of the reference, and the one `delay` samples older that the filter sees.
    const newest = this.newestRef;
    for (let i = 0; i < BLOCK; i++) {
      const at = this.refWrite - BLOCK + i;
      newest[i] = ring[(at + ring.length) % ring.length];
      this.refBlock[i] = ring[(((at - this.delay) % ring.length) + ring.length) % ring.length];
    }
    this.followDelay(newest);
    const energy = sumSquares(newest);
    this.farSum += energy - this.farEnergy[0];
    this.farEnergy.push(energy);
    this.farEnergy.shift();

    // Nothing played within reach of the microphone: no echo to learn or remove (and no CPU spent on it).
    if (this.farSum === 0) {
      this.linearOut.set(this.micBlock);
      this.filter.idle();
    } else this.filter.process(this.refBlock, this.micBlock, this.linearOut, this.doubleTalk.nearEnd);
    this.doubleTalk.update(sumSquares(this.micBlock), sumSquares(this.linearOut), sumSquares(this.filter.echo), dot(this.micBlock, this.filter.echo), sumSquares(this.refBlock), this.echoPossible, this.pathMoved);
    // No echo heard: nothing to suppress (the unlearnt filter's estimate would only cut the user).
    this.suppressor.process(this.linearOut, this.filter.echo, this.echoPossible ? this.filter.leak : 0, this.cutEchoOnly && this.echoPossible && !this.doubleTalk.nearEnd, this.cleanBlock);
    if (this.pendingLength + BLOCK > this.pending.length) {
      // Only when a caller hands over more than a few blocks at once.
      const grown = new Float64Array(2 * (this.pendingLength + BLOCK));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(this.cleanBlock, this.pendingLength);
    this.pendingLength += BLOCK;
  }

  /**
   * Follows the speaker-to-microphone delay. The first sure estimate inside the
   * span the filter covers is only noted; one outside it moves the span. After
   * that, any move of the echo (a device hiccup adds a buffer of delay) makes
   * the filter start over at the new delay: relearning from scratch is faster
   * than unlearning. From the first estimate that disagrees until the restart,
   * the filter is stale and the microphone is not taken for the user (a moved
   * echo looks like double talk otherwise).
   */
  private followDelay(newestReference: Float64Array): void {
    const found = this.delays.push(this.micBlock, newestReference);
    const latest = this.delays.latest;
    const span = this.filter.block * this.filter.partitionCount;
    // Keep the direct path a little after the start of the span and the reverberant tail inside it.
    const margin = 2 * BLOCK;
    const inside = (d: number) => d >= this.delay + margin / 2 && d <= this.delay + span / 2;
    const moved = (d: number) => (this.alignedAt === undefined ? !inside(d) : Math.abs(d - this.alignedAt) > MOVED);
    if (latest !== undefined) this.pathMoved = moved(latest);
    if (found === undefined || !moved(found)) {
      if (found !== undefined) this.alignedAt ??= found;
      return;
    }
    this.delay = Math.max(0, found - margin);
    this.alignedAt = found;
    this.pathMoved = false;
    this.filter.reset();
    this.doubleTalk.reset();
  }
}

function sumSquares(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s;
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}
