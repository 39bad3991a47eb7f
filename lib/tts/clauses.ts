/**
 * Text → clauses the way espeak-ng cuts them (ReadClause in espeak-ng 1.52),
 * which is how the official Piper groups phonemes into sentences: it hands the
 * whole text to espeak-ng and keeps each clause's terminator. The WebAssembly
 * espeak-ng we use does not report terminators, so the cut is made here and
 * each clause is phonemized on its own. Rules, each checked against Piper 1.8.0:
 *  - , ; : . ! ? and the dashes – — end a clause only when followed by white
 *    space or the end of the text (closing quotes and brackets may come
 *    between): "1,000", "3:30", "3.5", "x!y" and "a—b" are not cut;
 *  - a dash ends the clause like a semicolon; a run such as "?!" or "!!!"
 *    counts as its first mark;
 *  - a period followed by a lower-case word is not a stop ("p.m. today",
 *    "e.g. this"); one followed by anything else is ("Dr. Smith" is two
 *    sentences in Piper);
 *  - an ellipsis ("...", "…") ends the clause, not the sentence, even with no
 *    space after it, and has no terminator;
 *  - a blank line ends the sentence (no terminator); CJK marks need no space;
 *  - marks before any letter or digit of a clause are not terminators.
 */

export interface Clause {
  /** The clause's text, its closing mark included (espeak-ng reads it as in context). */
  text: string;
  /** Piper's terminator: "." "!" "?" "," ";" ":" or "" (ellipsis, blank line, end of text). */
  terminator: string;
  endOfSentence: boolean;
}

const MARKS: Record<string, { terminator: string; endOfSentence: boolean }> = {
  '.': { terminator: '.', endOfSentence: true },
  '!': { terminator: '!', endOfSentence: true },
  '?': { terminator: '?', endOfSentence: true },
  ',': { terminator: ',', endOfSentence: false },
  ';': { terminator: ';', endOfSentence: false },
  ':': { terminator: ':', endOfSentence: false },
  '–': { terminator: ';', endOfSentence: false },
  '—': { terminator: ';', endOfSentence: false },
};
/** Full-width marks end a clause with no space after them. */
const CJK_MARKS: Record<string, { terminator: string; endOfSentence: boolean }> = {
  '。': MARKS['.'],
  '！': MARKS['!'],
  '？': MARKS['?'],
  '，': MARKS[','],
  '、': MARKS[','],
  '；': MARKS[';'],
  '：': MARKS[':'],
};
const CLOSERS = '"\')]}»”’」』）';
const ALNUM = /[\p{L}\p{N}]/u;
const LOWER = /\p{Ll}/u;

export function splitClauses(text: string): Clause[] {
  const clauses: Clause[] = [];
  let start = 0;
  let hasWords = false;
  const cut = (end: number, terminator: string, endOfSentence: boolean) => {
    if (hasWords) clauses.push({ text: text.slice(start, end).trim(), terminator, endOfSentence });
    start = end;
    hasWords = false;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (ALNUM.test(c)) {
      hasWords = true;
      i++;
      continue;
    }
    if (c === '\n') {
      const blank = /^\n[^\S\n]*\n\s*/.exec(text.slice(i));
      if (blank) {
        cut(i, '', true);
        i += blank[0].length;
        start = i;
        continue;
      }
    }
    const ellipsis = /^(\.{3,}|…)/.exec(text.slice(i));
    if (ellipsis) {
      i += ellipsis[0].length;
      cut(i, '', false);
      continue;
    }
    const cjk = CJK_MARKS[c];
    if (cjk) {
      i++;
      cut(i, cjk.terminator, cjk.endOfSentence);
      continue;
    }
    const mark = MARKS[c];
    if (mark) {
      let end = i + 1;
      if ('!?'.includes(c)) while (end < text.length && '.!?'.includes(text[end])) end++;
      while (end < text.length && CLOSERS.includes(text[end])) end++;
      const atBreak = end >= text.length || /\s/.test(text[end]);
      const next = text.slice(end).trimStart()[0];
      const abbreviation = c === '.' && next !== undefined && LOWER.test(next);
      if (atBreak && !abbreviation) {
        cut(end, mark.terminator, mark.endOfSentence);
        i = end;
        continue;
      }
    }
    i++;
  }
  cut(text.length, '', true);
  return clauses;
}
