import { importEsm } from '../esm';

interface EspeakWorker {
  set_voice(name: string, lang: string): number;
  /** espeak_TextToPhonemes over the whole text: a pointer to phonemes joined by "_", words by " ", clauses by " | ". */
  text_to_phonemes(text: string, ipa: number): { ptr: number };
}
interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorker;
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  /** The WebIDL glue's wrapper of each pointer it returned, by address (never emptied by the glue). */
  getCache(kind: unknown): Record<number, unknown>;
  VoidPtr: unknown;
}

let loading: Promise<{ module: EspeakModule; worker: EspeakWorker }> | undefined;
/** set_voice reloads the language's data: only call it when the voice changes. */
let currentVoice: string | undefined;

/**
 * espeak-ng compiled to WebAssembly (@echogarden/espeak-ng-emscripten): the
 * same phonemizer Piper voices were trained with, with the data of every
 * language (Chinese included) inside the package. Nothing to install on
 * Linux, macOS or Windows, unlike a system espeak-ng. Exported for the test
 * that looks at its memory.
 */
export function espeak(): Promise<{ module: EspeakModule; worker: EspeakWorker }> {
  loading ??= importEsm<{ default: () => Promise<EspeakModule> }>('@echogarden/espeak-ng-emscripten').then(async (m) => {
    const module = await m.default();
    return { module, worker: new module.eSpeakNGWorker() };
  });
  return loading;
}

/**
 * The string text_to_phonemes returned, freed: each call allocates a new one
 * in espeak-ng's memory and the glue keeps a wrapper of each address, so a
 * piper worker grew by ~250 B a call (two a clause) for as long as it ran:
 * ~6 MB an hour of bench/soak, and WebAssembly memory never shrinks.
 */
function takeString(module: EspeakModule, { ptr }: { ptr: number }): string {
  if (!ptr) return '';
  const heap = module.HEAPU8;
  const end = heap.indexOf(0, ptr);
  const text = new TextDecoder().decode(heap.subarray(ptr, end < 0 ? heap.length : end));
  module._free(ptr);
  delete module.getCache(module.VoidPtr)[ptr];
  return text;
}

/**
 * Phonemes of each word, one entry per espeak phoneme. Pause phonemes are
 * named "_", "_:", "_!"...: an empty piece between two separators starts one.
 */
function phonemesOf(word: string): string[] {
  const out: string[] = [];
  const pieces = word.split('_');
  for (let i = 0; i < pieces.length; i++) {
    if (pieces[i] === '' && i + 1 < pieces.length && pieces[i + 1] !== '') out.push(`_${pieces[++i]}`);
    else out.push(pieces[i]);
  }
  return out;
}

/**
 * The palatal glide espeak-ng writes between some vowels ("p.m." pˌiːʲˈɛm,
 * "the office" ðɪʲ ˈɑːfɪs) has the mnemonic ";". espeak-ng 1.52, which the
 * official Piper bundles, writes it as ʲ in IPA; the older espeak-ng in the
 * WebAssembly build writes nothing. Piper voices are trained with the ʲ, so it
 * is put back from the mnemonic output, phoneme by phoneme.
 */
function restoreGlides(ipa: string, mnemonics: string): string {
  const ipaWords = ipa.split(' ');
  const mnemonicWords = mnemonics.split(' ');
  if (ipaWords.length !== mnemonicWords.length) return ipa;
  return ipaWords
    .map((word, w) => {
      const phonemes = word.split('_');
      const names = phonemesOf(mnemonicWords[w]);
      if (phonemes.length !== names.length) return word;
      return phonemes.map((ph, p) => (ph === '' && names[p] === ';' ? 'ʲ' : ph)).join('_');
    })
    .join(' ');
}

/**
 * IPA phonemes of one clause in an espeak voice, words separated by spaces,
 * as Piper gets them from espeak-ng (language-switch flags such as "(fr)"
 * removed, as Piper does).
 */
export async function clauseToIpa(text: string, voice: string): Promise<string> {
  const { module, worker } = await espeak();
  if (voice !== currentVoice) {
    currentVoice = undefined;
    if (worker.set_voice(voice, voice) !== 0) throw new Error(`espeak-ng has no voice "${voice}"`);
    currentVoice = voice;
  }
  const ipa = takeString(module, worker.text_to_phonemes(text, 1));
  const mnemonics = takeString(module, worker.text_to_phonemes(text, 0));
  const ipaClauses = ipa.split(' | ');
  const mnemonicClauses = mnemonics.split(' | ');
  return ipaClauses
    .map((c, i) => restoreGlides(c, mnemonicClauses[i] ?? ''))
    .join(' ')
    .replace(/_/g, '')
    .replace(/\([^)]+\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
