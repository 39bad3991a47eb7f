/**
 * Reads the metadata of an ONNX file (ModelProto.metadata_props) without
 * loading the model: the protobuf's top-level fields are walked and the graph,
 * nearly all of the file, is skipped by its length. sherpa-onnx picks the
 * recogniser and its settings from these keys, and ends the whole process
 * when one is missing, so the model folder check reads them first.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CodedError } from '../coded-error';
import { damagedFileHint } from '../models/damaged-file';

const METADATA_PROPS = 14;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

export function readOnnxMetadata(path: string): Record<string, string> {
  const fd = openSync(path, 'r');
  try {
    return walk(fd, fstatSync(fd).size, path);
  } finally {
    closeSync(fd);
  }
}

function walk(fd: number, size: number, path: string): Record<string, string> {
  const invalid = () => new CodedError(`${path} is not an ONNX model (unreadable protobuf): ${damagedFileHint(path)}`, 'MODEL_INVALID', 'bad model file');
  const head = Buffer.alloc(20);
  const meta: Record<string, string> = {};
  let pos = 0;
  while (pos < size) {
    const got = readSync(fd, head, 0, head.length, pos);
    const [tag, tagLen] = varint(head, 0, got);
    const [field, wire] = [Math.floor(tag / 8), tag % 8];
    if (field === 0 || tagLen === 0) throw invalid();
    pos += tagLen;
    if (wire === WIRE_VARINT) {
      const [, len] = varint(head, tagLen, got);
      if (len === 0) throw invalid();
      pos += len;
    } else if (wire === WIRE_FIXED64) pos += 8;
    else if (wire === WIRE_FIXED32) pos += 4;
    else if (wire === WIRE_BYTES) {
      const [length, len] = varint(head, tagLen, got);
      if (len === 0 || pos + len + length > size) throw invalid();
      pos += len;
      if (field === METADATA_PROPS) {
        const entry = Buffer.alloc(length);
        readSync(fd, entry, 0, length, pos);
        const { key, value } = parseEntry(entry, invalid);
        meta[key] = value;
      }
      pos += length;
    } else throw invalid();
  }
  if (pos !== size) throw invalid();
  return meta;
}

/** StringStringEntryProto: key = 1, value = 2. */
function parseEntry(buf: Buffer, invalid: () => Error): { key: string; value: string } {
  const out = { key: '', value: '' };
  let pos = 0;
  while (pos < buf.length) {
    const [tag, tagLen] = varint(buf, pos, buf.length);
    const [length, len] = varint(buf, pos + tagLen, buf.length);
    if (tagLen === 0 || len === 0 || tag % 8 !== WIRE_BYTES) throw invalid();
    const start = pos + tagLen + len;
    const text = buf.toString('utf8', start, start + length);
    if (tag >> 3 === 1) out.key = text;
    else if (tag >> 3 === 2) out.value = text;
    pos = start + length;
  }
  return out;
}

/** A protobuf varint at `at`: its value and its byte length (0 when it does not end before `end`). */
function varint(buf: Buffer, at: number, end: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 10 && at + i < end; i++) {
    const b = buf[at + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return [value, i + 1];
  }
  return [0, 0];
}
