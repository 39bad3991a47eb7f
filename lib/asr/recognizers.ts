/**
 * One interface over sherpa-onnx's two recognisers, utterance by utterance:
 * the streaming one decodes as the audio comes (partial text), the offline
 * one decodes the whole utterance once the VAD has cut it.
 */
import type { RecognizerSpec } from './model-folder';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

const RATE = 16000;

export interface Recognizer {
  readonly streaming: boolean;
  /** A new utterance starts (streaming: a fresh stream). */
  begin(): void;
  /** Streaming only: the utterance's next audio, from its onset on; returns the text so far. */
  accept(samples: Float32Array): string;
  /** The utterance ended; `speech` is what the VAD cut. Returns the final text. */
  finish(speech: Float32Array): string;
}

interface Stream {
  acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void;
  inputFinished?(): void;
}
interface SherpaOnline {
  createStream(): Stream;
  isReady(s: Stream): boolean;
  decode(s: Stream): void;
  getResult(s: Stream): { text: string };
}
interface SherpaOffline {
  createStream(): Stream;
  decode(s: Stream): void;
  getResult(s: Stream): { text: string };
}

export function createRecognizer(spec: RecognizerSpec): Recognizer {
  return spec.streaming ? new Streaming(new sherpa.OnlineRecognizer(spec.config)) : new Offline(new sherpa.OfflineRecognizer(spec.config));
}

class Streaming implements Recognizer {
  readonly streaming = true;
  private stream: Stream | undefined;

  constructor(private readonly recognizer: SherpaOnline) {}

  begin(): void {
    this.stream = this.recognizer.createStream();
  }

  accept(samples: Float32Array): string {
    const stream = this.stream ?? (this.stream = this.recognizer.createStream());
    stream.acceptWaveform({ samples, sampleRate: RATE });
    return this.decode(stream);
  }

  finish(): string {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return '';
    // The stream already holds the utterance and its trailing silence. The
    // encoder looks a little ahead: padding lets it emit the last word.
    stream.acceptWaveform({ samples: new Float32Array(RATE * 0.3), sampleRate: RATE });
    stream.inputFinished?.();
    return this.decode(stream);
  }

  private decode(stream: Stream): string {
    while (this.recognizer.isReady(stream)) this.recognizer.decode(stream);
    return this.recognizer.getResult(stream).text.trim();
  }
}

class Offline implements Recognizer {
  readonly streaming = false;

  constructor(private readonly recognizer: SherpaOffline) {}

  begin(): void {}

  accept(): string {
    return '';
  }

  finish(speech: Float32Array): string {
    const stream = this.recognizer.createStream();
    stream.acceptWaveform({ samples: speech, sampleRate: RATE });
    this.recognizer.decode(stream);
    return this.recognizer.getResult(stream).text.trim();
  }
}
