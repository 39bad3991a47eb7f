import { createParser } from 'eventsource-parser';

/** Receives what a llama-server stream says, event by event. */
export interface SseSink {
  /** A complete `data:` payload. `contentSent` is true when the raw path already passed its text on. */
  onData(data: string, contentSent: boolean): void;
  /** Raw path only: the text of an event whose line has not ended yet. */
  onEarlyContent?(text: string): void;
}

/** Takes the response body as it arrives, in pieces cut anywhere (even inside a UTF-8 character). */
export interface SseReader {
  feed(bytes: Uint8Array): void;
}

function decoding(feedText: (text: string) => void): SseReader {
  const decoder = new TextDecoder();
  return { feed: (bytes) => feedText(decoder.decode(bytes, { stream: true })) };
}

/** Standard reading with eventsource-parser: an event is handed on at its blank line. */
export function parsedReader(sink: SseSink): SseReader {
  const parser = createParser({ onEvent: (e) => sink.onData(e.data, false) });
  return decoding((text) => parser.feed(text));
}

const CONTENT = /"content":"((?:[^"\\]|\\.)*)"/;

/**
 * The raw-byte path: hands a token's text on as soon as the closing quote of
 * its `"content"` value arrives, before the rest of the JSON line and the blank
 * line that ends the SSE event. Saves the time the server takes to write the
 * rest of the event (timings, probabilities) on every token.
 */
export function rawReader(sink: SseSink): SseReader {
  let line = '';
  let earlySent = false;
  return decoding((text) => {
    for (const part of text.split(/(\n)/)) {
      if (part === '\n') {
        // trim: a proxy may end lines with \r\n.
        if (line.startsWith('data:')) sink.onData(line.slice(5).trim(), earlySent);
        line = '';
        earlySent = false;
        continue;
      }
      line += part;
      if (!earlySent && sink.onEarlyContent && line.startsWith('data:')) {
        const m = CONTENT.exec(line);
        if (m) {
          earlySent = true;
          sink.onEarlyContent(JSON.parse(`"${m[1]}"`) as string);
        }
      }
    }
  });
}
