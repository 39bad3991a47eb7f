import { importEsm } from '../esm';

interface EspeakWorker {
  set_voice(name: string, lang: string): number;
  synthesize_ipa(text: string): { code: number; ipa: string };
}
interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorker;
}

let loading: Promise<EspeakWorker> | undefined;
/** set_voice reloads the language's data: only call it when the voice changes. */
let currentVoice: string | undefined;

/**
 * espeak-ng compiled to WebAssembly (@echogarden/espeak-ng-emscripten): the
 * same phonemizer Piper voices were trained with, with the data of every
 * language (Chinese included) inside the package. Nothing to install on
 * Linux, macOS or Windows, unlike a system espeak-ng.
 */
function espeak(): Promise<EspeakWorker> {
  loading ??= importEsm<{ default: () => Promise<EspeakModule> }>('@echogarden/espeak-ng-emscripten').then(async (m) => new (await m.default()).eSpeakNGWorker());
  return loading;
}

/** IPA phonemes of one clause (no punctuation) in an espeak voice, words separated by spaces. */
export async function clauseToIpa(text: string, voice: string): Promise<string> {
  const worker = await espeak();
  if (voice !== currentVoice) {
    currentVoice = undefined;
    if (worker.set_voice(voice, voice) !== 0) throw new Error(`espeak-ng has no voice "${voice}"`);
    currentVoice = voice;
  }
  const { code, ipa } = worker.synthesize_ipa(text);
  if (code !== 0) throw new Error(`espeak-ng could not phonemize "${text.slice(0, 40)}" (code ${code})`);
  // Phonemes come joined by "_" and espeak starts a new line at its own clause breaks.
  return ipa.replace(/_/g, '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
}
