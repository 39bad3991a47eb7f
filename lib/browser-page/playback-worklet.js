// Node-RED → speaker: card buffers in a small jitter buffer, resampled to the
// device's rate. A buffer is receipted when it starts to play (the card's
// 'played'), a clear drops everything at once. For tests it can record what
// it put out.
import { Resampler } from './resampler.js';

/** Buffers held before playing starts, and the longest a lone buffer waits for a second (a short turn's end). */
const PREBUFFER = 2;
const MAX_WAIT_S = 0.04;

class Playback extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.resampler = new Resampler(options.processorOptions.rate, sampleRate);
    this.queue = [];
    this.current = new Float32Array(0);
    this.at = 0;
    this.playing = false;
    this.firstWaiting = 0;
    this.recording = null;
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(m) {
    if (m.frame) {
      if (!this.queue.length && !this.playing) this.firstWaiting = currentTime;
      this.queue.push({ samples: new Int16Array(m.frame), epoch: m.epoch });
    } else if (m.clear) {
      this.queue = [];
      this.current = new Float32Array(0);
      this.at = 0;
      this.playing = false;
      this.resampler.reset();
    } else if (m.record === true) {
      this.recording = [];
    } else if (m.record === false) {
      const chunks = this.recording || [];
      this.recording = null;
      this.port.postMessage({ recording: chunks });
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    let i = 0;
    while (i < out.length) {
      if (this.at >= this.current.length && !this.next()) break;
      const n = Math.min(out.length - i, this.current.length - this.at);
      out.set(this.current.subarray(this.at, this.at + n), i);
      i += n;
      this.at += n;
    }
    if (this.recording) this.recording.push(out.slice());
    return true;
  }

  next() {
    if (!this.playing) {
      const waited = this.queue.length && currentTime - this.firstWaiting >= MAX_WAIT_S;
      if (this.queue.length < PREBUFFER && !waited) return false;
      this.playing = true;
    }
    const frame = this.queue.shift();
    if (!frame) {
      // Ran dry: wait for the jitter buffer to fill again rather than stutter buffer by buffer.
      this.playing = false;
      return false;
    }
    this.port.postMessage({ played: frame.epoch });
    const f = new Float32Array(frame.samples.length);
    for (let k = 0; k < f.length; k++) f[k] = frame.samples[k] / 32768;
    this.current = this.resampler.process(f);
    this.at = 0;
    return true;
  }
}

registerProcessor('playback', Playback);
