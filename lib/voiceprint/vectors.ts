/** Cosine similarity of two embeddings (0 when either is all zeros). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** Unit length, so that averaging gives every sample the same weight. */
export function normalize(v: ArrayLike<number>): number[] {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  const s = n ? 1 / Math.sqrt(n) : 0;
  return Array.from(v, (x) => x * s);
}

/** The mean of unit-length embeddings, weighted by how many samples each stands for. */
export function weightedMean(vectors: { v: ArrayLike<number>; weight: number }[]): number[] {
  const dim = vectors[0].v.length;
  const sum = new Array<number>(dim).fill(0);
  let total = 0;
  for (const { v, weight } of vectors) {
    const u = normalize(v);
    for (let i = 0; i < dim; i++) sum[i] += u[i] * weight;
    total += weight;
  }
  return sum.map((x) => x / total);
}
