/**
 * How a flow's messages become the Wyoming events that answer one request.
 * Each answer takes the messages wyoming-out hands it (transcripts, audio
 * frames, LLM replies, the asr's control and metrics) and writes events until
 * it is complete.
 */
import { validateFormat } from '../audio/validate';
import { isAudioFrame, isControlMessage, isLlmChunk, isMetrics, isTranscript } from '../messages';

export type Write = (type: string, data?: Record<string, unknown>, payload?: Buffer) => void;

export interface Answer {
  /** Takes one flow message; true when the request is answered (nothing more will be written). */
  take(msg: Record<string, unknown>): boolean;
  /** The client's input is complete (audio-stop, synthesize-stop, the text itself). True when that answers it. */
  inputDone(): boolean;
  /** Why the flow has not answered, for the timeout's error event. */
  waitingFor: string;
  /** The request is over: no timer of it may outlive it. */
  dispose?(): void;
}

/**
 * Transcribe: the final transcripts the asr gives for the audio, joined. asr
 * ends an utterance by itself, or at the flush wyoming-in sends at audio-stop.
 * The answer goes when the input has stopped and no utterance is open: at once
 * if text was heard, else after `graceMs` (an utterance the recogniser has not
 * started yet, or silence: an empty transcript). With asr's control wired to
 * wyoming-out, speech-start says an utterance is open; its transcript or its
 * metrics close it.
 */
export class TranscriptAnswer implements Answer {
  readonly waitingFor = 'transcript from asr';
  private readonly texts: string[] = [];
  private speaking = false;
  private stopped = false;
  private grace: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: Write,
    private readonly language: string | undefined,
    private readonly graceMs: number,
    private readonly onGrace: () => void,
  ) {}

  take(msg: Record<string, unknown>): boolean {
    if (isControlMessage(msg)) {
      const type = (msg.control as { type?: unknown }).type;
      if (type === 'speech-start') {
        this.speaking = true;
        clearTimeout(this.grace);
      }
      return false;
    }
    if (isTranscript(msg)) {
      if (msg.partial) return false;
      if (msg.payload.trim()) this.texts.push(msg.payload.trim());
      this.speaking = false;
    } else if (isMetrics(msg)) {
      if (msg.stage !== 'asr') return false;
      this.speaking = false; // an utterance ended without words (a VAD-only asr, or noise)
    } else {
      return false;
    }
    return this.stopped && this.settle();
  }

  inputDone(): boolean {
    this.stopped = true;
    return this.settle();
  }

  /** The grace period ran out: whatever was heard is the answer. */
  expire(): void {
    this.send();
  }

  private settle(): boolean {
    if (this.speaking) return false;
    if (this.texts.length) return this.send();
    clearTimeout(this.grace);
    this.grace = setTimeout(this.onGrace, this.graceMs);
    return false;
  }

  private send(): boolean {
    clearTimeout(this.grace);
    this.write('transcript', { text: this.texts.join(' '), ...(this.language ? { language: this.language } : {}) });
    return true;
  }

  dispose(): void {
    clearTimeout(this.grace);
  }
}

/**
 * Synthesize: piper-tts's frames of the request's turn as audio-start,
 * audio-chunk…, audio-stop. A plain request is one audio stream (as
 * wyoming-piper sends it); a streaming one is one stream per text piper-tts
 * was given (a sentence), then synthesize-stopped. The silent marker frame
 * piper-tts sends for an empty last text only ends the reply.
 */
export class AudioAnswer implements Answer {
  readonly waitingFor = 'audio from piper-tts';
  private open = false;

  constructor(
    private readonly write: Write,
    private readonly streaming: boolean,
  ) {}

  take(msg: Record<string, unknown>): boolean {
    if (!isAudioFrame(msg)) return false;
    const marker = msg.text === '' && msg.complete === true;
    if (!marker) {
      const format = validateFormat(msg.audio); // s16le only: what Wyoming's width 2 means
      const wire = { rate: format.sampleRate, width: 2, channels: format.channels };
      if (!this.open) this.write('audio-start', wire);
      this.open = true;
      this.write('audio-chunk', wire, msg.payload);
    }
    const streamEnds = msg.complete === true || (this.streaming && msg.chunkEnd === true);
    if (streamEnds && this.open) {
      this.write('audio-stop');
      this.open = false;
    }
    if (msg.complete !== true) return false;
    if (this.streaming) this.write('synthesize-stopped');
    return true;
  }

  inputDone(): boolean {
    return false;
  }
}

/**
 * Handle (a transcript for the conversation agent): llama-llm's full reply
 * (its second output) as `handled`; its fallback chunk of a failed turn, or a
 * message with `msg.handled === false`, as `not-handled`. Any other text
 * message of the turn from the flow is an answer too (a function node's).
 */
export class HandledAnswer implements Answer {
  readonly waitingFor = 'reply from llama-llm';

  constructor(
    private readonly write: Write,
    private readonly context: Record<string, unknown>,
  ) {}

  take(msg: Record<string, unknown>): boolean {
    if (isControlMessage(msg) || isMetrics(msg) || typeof msg.payload !== 'string') return false;
    if (isLlmChunk(msg)) {
      if (msg.fallback !== true) return false; // the full reply follows
      this.write('not-handled', { text: msg.payload, context: this.context });
      return true;
    }
    this.write(msg.handled === false ? 'not-handled' : 'handled', { text: msg.payload, context: this.context });
    return true;
  }

  inputDone(): boolean {
    return false;
  }
}
