/**
 * Silero's speech probability decays for ~100 ms after the voice stops, so a
 * segment the VAD cuts ends that much late. This trims it to its last 10 ms
 * frame within 40 dB of the segment's loudest frame, looking only at the final
 * 300 ms (so a quiet word inside the utterance is never cut). Returns a view.
 */
export function trimTrailingSilence(samples: Float32Array, sampleRate: number): Float32Array {
  const frame = Math.round(sampleRate / 100);
  const frames = Math.floor(samples.length / frame);
  if (frames === 0) return samples;
  const energy = new Float32Array(frames);
  let peak = 0;
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let k = f * frame; k < (f + 1) * frame; k++) sum += samples[k] * samples[k];
    energy[f] = sum / frame;
    if (energy[f] > peak) peak = energy[f];
  }
  const floor = peak * 1e-4; // -40 dB
  let last = frames - 1;
  const earliest = Math.max(0, frames - 30);
  while (last > earliest && energy[last] < floor) last--;
  return samples.subarray(0, (last + 1) * frame);
}
