/**
 * Compares audio as heard, not as timed: where in `recording` does `reference`
 * occur, and how alike are the two there (normalised cross-correlation, 1 = identical).
 */
export function findInRecording(recording: Int16Array, reference: Int16Array): { lag: number; correlation: number } {
  // Coarse: align the first loud sample of each, then search around it.
  const onset = (x: Int16Array) => x.findIndex((v) => Math.abs(v) > 1000);
  const guess = onset(recording) - onset(reference);
  let best = { lag: 0, correlation: -1 };
  for (let lag = Math.max(0, guess - 800); lag <= guess + 800; lag++) {
    const c = correlationAt(recording, reference, lag);
    if (c > best.correlation) best = { lag, correlation: c };
  }
  return best;
}

export function correlationAt(recording: Int16Array, reference: Int16Array, lag: number): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  const n = Math.min(reference.length, recording.length - lag);
  if (n <= 0) return -1;
  for (let i = 0; i < n; i++) {
    const x = reference[i];
    const y = recording[i + lag];
    xy += x * y;
    xx += x * x;
    yy += y * y;
  }
  return xx && yy ? xy / Math.sqrt(xx * yy) : -1;
}

/** Samples from the first to the last one louder than `threshold`. */
export function loudSpan(x: Int16Array, threshold = 300): number {
  let first = -1;
  let last = -1;
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i]) > threshold) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? 0 : last - first + 1;
}

/** A steady tone: easy to find in a recording, and loud from its first sample to its last. */
export function tone(sampleRate: number, seconds: number, hz = 440, amplitude = 12000): Int16Array {
  const out = new Int16Array(Math.round(sampleRate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate));
  return out;
}
