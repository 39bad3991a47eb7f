// A streaming windowed-sinc resampler, shared by the capture and playback worklets.
// Cutting off a little below the lower Nyquist rate keeps 48 kHz capture from
// folding into 16 kHz speech; 16 taps a side cost nothing at these rates.
export class Resampler {
  constructor(inRate, outRate, half = 16) {
    this.step = inRate / outRate;
    this.cutoff = Math.min(1, outRate / inRate) * 0.92;
    this.half = half;
    this.reset();
  }

  reset() {
    this.history = new Float32Array(this.half);
    this.pos = this.half;
  }

  /** Float samples in, float samples out; the filter's state carries over between calls. */
  process(input) {
    const data = new Float32Array(this.history.length + input.length);
    data.set(this.history);
    data.set(input, this.history.length);
    const out = new Float32Array(Math.max(0, Math.ceil((data.length - this.half - this.pos) / this.step)));
    let n = 0;
    while (this.pos + this.half < data.length && n < out.length) {
      const center = Math.floor(this.pos);
      const frac = this.pos - center;
      let acc = 0;
      for (let k = 1 - this.half; k <= this.half; k++) acc += data[center + k] * this.kernel(k - frac);
      out[n++] = acc;
      this.pos += this.step;
    }
    const keep = Math.max(0, Math.floor(this.pos) - this.half + 1);
    this.history = data.slice(keep);
    this.pos -= keep;
    return n === out.length ? out : out.subarray(0, n);
  }

  kernel(x) {
    if (Math.abs(x) >= this.half) return 0;
    const c = this.cutoff;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * c * x) / (Math.PI * c * x);
    return c * sinc * 0.5 * (1 + Math.cos((Math.PI * x) / this.half));
  }
}
