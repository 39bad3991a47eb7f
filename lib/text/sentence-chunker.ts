/**
 * Cuts streamed LLM text into pieces a TTS engine can speak: whole sentences
 * as soon as they are complete, or a clause once a sentence runs long, so the
 * first audio never waits for the end of a long sentence.
 *
 * Hard cases handled: abbreviations ("Dr.", "e.g."), initials ("J. R. R."),
 * decimals ("3.14"), ellipses ("Well... maybe", "Hmm… Let"), closing quotes
 * and brackets after the stop, line breaks (lists), CJK full stops (。！？),
 * which need no following space, and emoji, which are never cut apart.
 */

const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'etc', 'e.g', 'i.e', 'no', 'fig', 'approx', 'dept', 'inc', 'ltd', 'co', 'jan', 'feb',
  'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'a.m', 'p.m', 'u.s', 'min', 'max', 'ca',
]);
const WESTERN_STOPS = '.!?…';
const CJK_STOPS = '。！？';
const STOPS = WESTERN_STOPS + CJK_STOPS;
const CLOSERS = '"\')]}»”’」』）';
/** Clause breaks that need a space after them, and the CJK ones that never have one. */
const CLAUSE_BREAKS = ',;:—–';
const CJK_CLAUSE_BREAKS = '、，；：';

export interface ChunkerOptions {
  /** A sentence longer than this is cut at its last clause break (or space). */
  maxChars?: number;
  /** The same limit for the first chunk of a turn, smaller so speech starts sooner. */
  firstMaxChars?: number;
  /**
   * The first chunk of a turn ends at its first clause break (comma, semicolon,
   * colon, dash) once it holds this many words: "Sure, the kitchen light is on,"
   * is spoken while the rest is still being generated. 0: only at a sentence end.
   */
  firstClauseWords?: number;
}

const earliest = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export class SentenceChunker {
  private buffer = '';
  private emitted = 0;
  private readonly maxChars: number;
  private readonly firstMaxChars: number;
  private readonly firstClauseWords: number;

  constructor(options: ChunkerOptions = {}) {
    this.maxChars = options.maxChars ?? 200;
    this.firstMaxChars = options.firstMaxChars ?? this.maxChars;
    this.firstClauseWords = options.firstClauseWords ?? 0;
  }

  /** Adds streamed text; returns the chunks it completed (trimmed, never empty). */
  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    for (;;) {
      const first = this.emitted === 0;
      const end = earliest(this.sentenceEnd(), first ? this.firstClause() : undefined);
      const limit = first ? this.firstMaxChars : this.maxChars;
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

  /**
   * Index just past the first complete sentence, or undefined when none is
   * complete yet. A stop is only decided once the character after it (and
   * after any closing quotes) has arrived: it may be "3.14", "?!" or "。」".
   */
  private sentenceEnd(): number | undefined {
    const b = this.buffer;
    for (let i = 0; i < b.length; i++) {
      const ch = b[i];
      if (ch === '\n') {
        // A line break ends a list item or a heading; blank lines end nothing.
        if (b.slice(0, i).trim()) return i + 1;
        continue;
      }
      if (!STOPS.includes(ch)) continue;
      let j = i + 1;
      while (j < b.length && STOPS.includes(b[j])) j++;
      j = this.skipClosers(j);
      if (j >= b.length) return undefined;
      const run = b.slice(i, j);
      if (/[。！？]/.test(run)) return j; // CJK stops need no space after them
      if (!/\s/.test(b[j])) {
        i = j - 1; // "3.14", "e.g", "example.com": not an end
        continue;
      }
      if (run === '.' && this.isAbbreviation(i)) continue;
      if (run.includes('…') || run.includes('...')) {
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

  /** Index just past the first clause break that follows enough words (firstClauseWords), once the next character shows it is one. */
  private firstClause(): number | undefined {
    if (this.firstClauseWords <= 0) return undefined;
    const b = this.buffer;
    for (let i = 1; i < b.length; i++) {
      const cjk = CJK_CLAUSE_BREAKS.includes(b[i]);
      if (!cjk && !CLAUSE_BREAKS.includes(b[i])) continue;
      // "1,250" or "3:30" is no break; a break at the very end is decided by the next character.
      if (!cjk && (i + 1 >= b.length || !/\s/.test(b[i + 1]))) continue;
      if (b.slice(0, i).trim().split(/\s+/).length >= this.firstClauseWords) return i + 1;
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

  /** Where to cut a long sentence: after its last clause break, else its last space, else its last whole character. */
  private clauseEnd(limit: number): number {
    const head = this.buffer.slice(0, limit);
    for (let i = head.length - 1; i > 0; i--) {
      if (CJK_CLAUSE_BREAKS.includes(head[i])) return i + 1;
      if (CLAUSE_BREAKS.includes(head[i]) && (i + 1 >= head.length || /\s/.test(head[i + 1]))) return i + 1;
    }
    const space = head.lastIndexOf(' ');
    if (space > 0) return space + 1;
    // No break at all (a run of CJK or emoji): cut between graphemes, never inside a surrogate pair or a ZWJ sequence.
    let cut = 0;
    for (const { index, segment } of graphemes.segment(this.buffer)) {
      if (index > 0 && index + segment.length > limit) return index;
      cut = index + segment.length;
    }
    return cut;
  }
}
