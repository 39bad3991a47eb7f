/**
 * Where the voice stopped, 10 ms at a time, without waiting for the VAD:
 * Silero's probability decays for ~100 ms after the last word and sherpa-onnx
 * adds its min silence on top (measured: speech-end 170-220 ms after the last
 * word even at 50 ms), too late to ask the turn model 200 ms after it. A frame
 * is voiced when it is within 35 dB of the turn's loudest frame and 6 dB
 * above the room's floor: the quietest frame of the 3 s before the turn was
 * heard (fixed for the turn, so the turn's own speech never raises it).
 */
export const FRAME = 160;
const FLOOR_FRAMES = 300;
const BELOW_PEAK = 10 ** -3.5;
const ABOVE_FLOOR = 10 ** 0.6;

export class PauseTracker {
  private readonly recent = new Float64Array(FLOOR_FRAMES);
  private frames = 0;
  private peak = 0;
  private floor = 0;

  /** The energy of the next 10 ms frame; returns whether it is voiced (always false outside a turn). */
  frame(samples: Float32Array, inTurn: boolean): boolean {
    let sum = 0;
    for (const v of samples) sum += v * v;
    const energy = sum / samples.length;
    this.recent[this.frames++ % FLOOR_FRAMES] = energy;
    if (!inTurn) return false;
    if (energy > this.peak) this.peak = energy;
    return energy > 0 && energy >= this.peak * BELOW_PEAK && energy >= this.floor * ABOVE_FLOOR;
  }

  /** A turn starts: its loudest frame so far is the loudest of the last `frames` (the VAD dates its onset back). */
  startTurn(frames: number): void {
    this.peak = 0;
    this.floor = Infinity;
    const kept = Math.min(this.frames, FLOOR_FRAMES);
    for (let i = 1; i <= kept; i++) {
      const energy = this.recent[(this.frames - i) % FLOOR_FRAMES];
      if (i <= frames) this.peak = Math.max(this.peak, energy);
      this.floor = Math.min(this.floor, energy);
    }
  }
}
