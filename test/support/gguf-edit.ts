import { readFileSync } from 'node:fs';

/** GGUF value types (ggml's gguf.h) and the byte size of the fixed-size ones. */
const FIXED: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;
const UINT32 = 4;
const FLOAT32 = 6;

/**
 * A copy of a GGUF file with some of its header values changed, as a broken
 * converter would write them: the file stays well-formed and its tensors
 * untouched. Only 32-bit values (uint32, float32) can be set, in place.
 */
export function ggufWith(path: string, values: Record<string, number>): Buffer {
  const bytes = Buffer.from(readFileSync(path));
  let at = 8; // magic, version
  const kvCount = Number(bytes.readBigUInt64LE(at + 8));
  at += 16; // tensor count, kv count
  const string = () => {
    const n = Number(bytes.readBigUInt64LE(at));
    const text = bytes.toString('utf8', at + 8, at + 8 + n);
    at += 8 + n;
    return text;
  };
  const skip = (type: number): void => {
    if (type === STRING) string();
    else if (type === ARRAY) {
      const itemType = bytes.readUInt32LE(at);
      const n = Number(bytes.readBigUInt64LE(at + 4));
      at += 12;
      for (let i = 0; i < n; i++) skip(itemType);
    } else at += FIXED[type];
  };
  const left = new Set(Object.keys(values));
  for (let i = 0; i < kvCount; i++) {
    const key = string();
    const type = bytes.readUInt32LE(at);
    at += 4;
    if (key in values && (type === UINT32 || type === FLOAT32)) {
      if (type === UINT32) bytes.writeUInt32LE(values[key], at);
      else bytes.writeFloatLE(values[key], at);
      left.delete(key);
    }
    skip(type);
  }
  if (left.size) throw new Error(`${path} has no 32-bit ${[...left].join(', ')}`);
  return bytes;
}
