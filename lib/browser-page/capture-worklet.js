// Microphone → Node-RED: resampled to the card's rate, s16le, one card buffer per message.
import { Resampler } from './resampler.js';

class Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { rate, frame } = options.processorOptions;
    this.resampler = new Resampler(sampleRate, rate);
    this.size = frame;
    this.frame = new Int16Array(frame);
    this.n = 0;
    this.peak = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    const out = this.resampler.process(channel);
    for (let i = 0; i < out.length; i++) {
      const v = Math.max(-1, Math.min(1, out[i]));
      this.peak = Math.max(this.peak, Math.abs(v));
      this.frame[this.n++] = v < 0 ? Math.round(v * 32768) : Math.round(v * 32767);
      if (this.n === this.size) {
        this.port.postMessage({ frame: this.frame.buffer, peak: this.peak }, [this.frame.buffer]);
        this.frame = new Int16Array(this.size);
        this.n = 0;
        this.peak = 0;
      }
    }
    return true;
  }
}

registerProcessor('capture', Capture);
