import { createParser, type EventSourceParser } from 'eventsource-parser';

/** Receives what a llama-server stream says, event by event. */
export interface SseSink {
  /** A complete `data:` payload. `contentSent` is true when the raw path already passed its text on. */
  onData(data: string, contentSent: boolean): void;
  /** Raw path only: the text of an event whose line has not ended yet. */
  onEarlyContent?(text: string): void;
}

export interface SseReader {
  feed(chunk: string): void;
}

/** Standard reading with eventsource-parser: an event is handed on at its blank line. */
export function parsedReader(sink: SseSink): SseReader {
  const parser: EventSourceParser = createParser({ onEvent: (e) => sink.onData(e.data, false) });
  return { feed: (chunk) => parser.feed(chunk) };
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
  return {
    feed(chunk: string) {
      for (const part of chunk.split(/(\n)/)) {
        if (part === '\n') {
          if (line.startsWith('data:')) sink.onData(line.slice(5).trimStart(), earlySent);
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
    },
  };
}
