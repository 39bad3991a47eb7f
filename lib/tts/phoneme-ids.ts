/** Piper's special symbols: padding between phonemes, begin and end of a sentence. */
const PAD = '_';
const BOS = '^';
const EOS = '$';

/**
 * Phonemes → model input ids with Piper's rules: BOS, then each phoneme's ids
 * followed by the pad id, then EOS. Phonemes the voice does not know are
 * skipped and reported.
 */
export function phonemeIds(phonemes: string, map: Record<string, number[]>): { ids: number[]; missing: string[] } {
  const pad = map[PAD] ?? [0];
  const ids: number[] = [...(map[BOS] ?? []), ...pad];
  const missing: string[] = [];
  for (const ph of phonemes) {
    const mapped = map[ph];
    if (!mapped) {
      missing.push(ph);
      continue;
    }
    ids.push(...mapped, ...pad);
  }
  ids.push(...(map[EOS] ?? []));
  return { ids, missing };
}
