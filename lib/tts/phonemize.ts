import { splitClauses } from './clauses';
import { clauseToIpa } from './espeak';

/** Emoji (with their joiners and variation selectors): espeak would read out their names ("party popper"). */
const EMOJI = /\p{Extended_Pictographic}|\u{FE0F}|\u{200D}|[\u{1F3FB}-\u{1F3FF}]/gu;

export interface PhonemizedSentence {
  text: string;
  phonemes: string;
}

/**
 * Text → phonemes per sentence, as the official Piper (piper-tts 1.8.0) does
 * it: espeak-ng's clauses and sentences (see clauses.ts), each clause's IPA
 * followed by its terminator, and a space after "," ";" ":" only — so an
 * ellipsis joins its clauses with nothing between ("wˈeɪtɑːɹ juː"), as in
 * Piper. Each sentence is synthesised on its own. Emoji are dropped, not read
 * out (Piper reads them), and sentences with nothing left to say are left out.
 */
export async function phonemize(text: string, voice: string): Promise<PhonemizedSentence[]> {
  const out: PhonemizedSentence[] = [];
  let words: string[] = [];
  let phonemes = '';
  const endSentence = () => {
    if (/[^.,;:!?\s]/.test(phonemes)) out.push({ text: words.join(' '), phonemes: phonemes.normalize('NFD') });
    words = [];
    phonemes = '';
  };
  for (const clause of splitClauses(text.replace(EMOJI, ''))) {
    phonemes += (await clauseToIpa(clause.text, voice)) + clause.terminator + (/^[,;:]$/.test(clause.terminator) ? ' ' : '');
    words.push(clause.text);
    if (clause.endOfSentence) endSentence();
  }
  endSentence();
  return out;
}
