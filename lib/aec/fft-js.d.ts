// fft.js ships no types; this is the part of its API we use.
declare module 'fft.js' {
  class FFT {
    constructor(size: number);
    createComplexArray(): number[];
    /** Fills the first half (bins 0..size/2) of `out`, interleaved re, im. */
    realTransform(out: ArrayLike<number>, input: ArrayLike<number>): void;
    /** Mirrors the first half of a real signal's spectrum into the second. */
    completeSpectrum(spectrum: ArrayLike<number>): void;
    /** Complex inverse, divided by size. */
    inverseTransform(out: ArrayLike<number>, spectrum: ArrayLike<number>): void;
  }
  export = FFT;
}
