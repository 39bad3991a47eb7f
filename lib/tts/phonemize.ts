import { SentenceChunker } from '../text/sentence-chunker';
import { clauseToIpa } from './espeak';

/** Full-width punctuation → what Piper's phoneme maps contain. */
const PUNCTUATION: Record<string, string> = { '。': '.', '！': '!', '？': '?', '，': ',', '；': ';', '：': ':', '、': ',' };
const CLAUSE = /([^,;:，；：、]+)([,;:，；：、]*)/gu;
/** Emoji (with their joiners and variation selectors): espeak would read out their names ("party popper"). */
const EMOJI = /\p{Extended_Pictographic}|\u{FE0F}|\u{200D}|[\u{1F3FB}-\u{1F3FF}]/gu;
const END = /([.!?。！？…]+)["'»”’」』）)\]]*\s*$/u;

export interface PhonemizedSentence {
  text: string;
  phonemes: string;
}

/**
 * Text → phonemes per sentence, the way Piper does it: espeak-ng IPA per
 * clause, the clause's punctuation kept ("həlˈoʊ, wˈɜːld."), each sentence
 * synthesised on its own. Emoji are dropped, not read out, and sentences with
 * nothing left to say are left out.
 */
export async function phonemize(text: string, voice: string): Promise<PhonemizedSentence[]> {
  const chunker = new SentenceChunker({ maxChars: 100_000 });
  const sentences = [...chunker.push(text.replace(EMOJI, '')), ...chunker.flush()];
  const out: PhonemizedSentence[] = [];
  for (const sentence of sentences) {
    const end = END.exec(sentence);
    const body = end ? sentence.slice(0, end.index) : sentence;
    const parts: string[] = [];
    for (const [, clause, punct] of body.matchAll(CLAUSE)) {
      const ipa = clause.trim() ? await clauseToIpa(clause, voice) : '';
      const mark = punct ? (PUNCTUATION[punct[0]] ?? punct[0]) : '';
      if (ipa || mark) parts.push(`${ipa}${mark}`);
    }
    const stop = end ? (PUNCTUATION[end[1][0]] ?? (end[1][0] === '…' ? '.' : end[1][0])) : '';
    const phonemes = `${parts.join(' ')}${stop}`.normalize('NFD').trim();
    if (phonemes.replace(/[.,;:!?\s]/g, '')) out.push({ text: sentence, phonemes });
  }
  return out;
}
