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

/**
 * How much of `reference` the recording holds intact, when a starved machine
 * may have dropped or inserted a few milliseconds here and there: the share of
 * its loud `segment`-sample pieces found, each near where the one before it
 * was (within ±`drift` samples), with a correlation above `min`.
 */
export function intactShare(recording: Int16Array, reference: Int16Array, segment: number, drift = 1600, min = 0.99): number {
  let lag = findInRecording(recording, reference).lag;
  let loud = 0;
  let intact = 0;
  for (let at = 0; at + segment <= reference.length; at += segment) {
    const piece = reference.subarray(at, at + segment);
    if (!piece.some((v) => Math.abs(v) > 1000)) continue;
    loud++;
    let best = { lag: 0, correlation: -1 };
    for (let l = Math.max(0, lag + at - drift); l <= lag + at + drift; l++) {
      const c = correlationAt(recording, piece, l);
      if (c > best.correlation) best = { lag: l, correlation: c };
    }
    if (best.correlation > min) {
      intact++;
      lag = best.lag - at;
    }
  }
  return loud ? intact / loud : 0;
}

/**
 * findInRecording for recordings that are loud before the reference starts
 * (its onset guess fails there): every lag in [from, to), coarse then fine.
 */
export function findBetween(recording: Int16Array, reference: Int16Array, from: number, to: number): { lag: number; correlation: number } {
  let best = { lag: from, correlation: -1 };
  for (let lag = Math.max(0, from); lag < to; lag += 4) {
    const c = correlationAt(recording, reference, lag);
    if (c > best.correlation) best = { lag, correlation: c };
  }
  for (let lag = Math.max(0, best.lag - 3); lag <= best.lag + 3; lag++) {
    const c = correlationAt(recording, reference, lag);
    if (c > best.correlation) best = { lag, correlation: c };
  }
  return best;
}
