/**
 * Cuts streamed LLM text into pieces a TTS engine can speak: whole sentences
 * as soon as they are complete, or a clause once a sentence runs long, so the
 * first audio never waits for the end of a long sentence.
 *
 * Hard cases handled: abbreviations ("Dr.", "e.g."), initials ("J. R. R."),
 * decimals ("3.14"), ellipses ("Well... maybe"), closing quotes after the
 * stop, and CJK full stops (。！？), which need no following space.
 */

const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'etc', 'e.g', 'i.e', 'no', 'fig', 'approx', 'dept', 'inc', 'ltd', 'co', 'jan', 'feb',
  'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'a.m', 'p.m', 'u.s', 'min', 'max', 'ca',
]);
const WESTERN_STOPS = '.!?';
const CJK_STOPS = '。！？';
const CLOSERS = '"\')]}»”’」』）';
const CLAUSE_BREAKS = ',;:—–、，；：';

export interface ChunkerOptions {
  /** A sentence longer than this is cut at its last clause break (or space). */
  maxChars?: number;
  /** The same limit for the first chunk of a turn, smaller so speech starts sooner. */
  firstMaxChars?: number;
}

export class SentenceChunker {
  private buffer = '';
  private emitted = 0;
  private readonly maxChars: number;
  private readonly firstMaxChars: number;

  constructor(options: ChunkerOptions = {}) {
    this.maxChars = options.maxChars ?? 200;
    this.firstMaxChars = options.firstMaxChars ?? this.maxChars;
  }

  /** Adds streamed text; returns the chunks it completed (trimmed, never empty). */
  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    for (;;) {
      const end = this.sentenceEnd();
      const limit = this.emitted === 0 ? this.firstMaxChars : this.maxChars;
      const cut = end ?? (this.buffer.length > limit ? this.clauseEnd(limit) : undefined);
      if (cut === undefined) break;
      this.take(cut, out);
    }
    return out;
  }

  /** The rest of the text at the end of a turn. */
  flush(): string[] {
    const out: string[] = [];
    this.take(this.buffer.length, out);
    this.emitted = 0;
    return out;
  }

  /** Forgets everything (an interrupted turn). */
  reset(): void {
    this.buffer = '';
    this.emitted = 0;
  }

  private take(end: number, out: string[]): void {
    const piece = this.buffer.slice(0, end).trim();
    this.buffer = this.buffer.slice(end);
    if (piece) {
      out.push(piece);
      this.emitted++;
    }
  }

  /** Index just past the first complete sentence, or undefined when none is complete yet. */
  private sentenceEnd(): number | undefined {
    const b = this.buffer;
    for (let i = 0; i < b.length; i++) {
      const ch = b[i];
      if (CJK_STOPS.includes(ch)) return this.skipClosers(i + 1);
      if (!WESTERN_STOPS.includes(ch)) continue;
      // Runs like "?!" or "..." end together.
      let j = i + 1;
      while (j < b.length && WESTERN_STOPS.includes(b[j])) j++;
      j = this.skipClosers(j);
      if (j >= b.length) return undefined; // need the next character to decide
      if (!/\s/.test(b[j])) {
        i = j - 1; // "3.14", "e.g", "example.com": not an end
        continue;
      }
      if (ch === '.' && j - i === 1 && this.isAbbreviation(i)) continue;
      if (ch === '.' && b.slice(i, i + 3) === '...') {
        // "Well... maybe": an ellipsis ends a sentence only before a capital letter.
        const next = b.slice(j).search(/\S/);
        if (next < 0) return undefined;
        if (!/\p{Lu}/u.test(b[j + next])) {
          i = j - 1;
          continue;
        }
      }
      return j;
    }
    return undefined;
  }

  private skipClosers(j: number): number {
    while (j < this.buffer.length && CLOSERS.includes(this.buffer[j])) j++;
    return j;
  }

  private isAbbreviation(dot: number): boolean {
    const before = this.buffer.slice(0, dot);
    const word = /(\S+)$/.exec(before)?.[1] ?? '';
    const bare = word.replace(/^[("'“‘[]+/, '').toLowerCase();
    return ABBREVIATIONS.has(bare) || /^\p{L}$/u.test(bare);
  }

  /** Where to cut a long sentence: after its last clause break, else its last space, within the limit. */
  private clauseEnd(limit: number): number {
    const head = this.buffer.slice(0, limit);
    for (let i = head.length - 1; i > 0; i--) {
      if (CLAUSE_BREAKS.includes(head[i]) && (i + 1 >= head.length || /\s/.test(head[i + 1]) || '、，；：'.includes(head[i]))) return i + 1;
    }
    const space = head.lastIndexOf(' ');
    return space > 0 ? space + 1 : limit;
  }
}
