/**
 * Builds tiny ONNX models for tests: the same inputs, outputs and metadata as
 * a real model (a Piper voice, a speaker-embedding extractor, a recogniser),
 * with a few operators inside instead of weights, so that the real loading and
 * inference code runs in CI without downloading anything.
 */
import { writeFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';

type ElemType = 'float' | 'int64' | 'int32' | 'bool';
const ELEM: Record<ElemType, onnx.TensorProto.DataType> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

export interface ValueSpec {
  name: string;
  type: ElemType;
  /** Numbers are fixed sizes, strings are named dynamic axes. */
  shape: (number | string)[];
}

export interface ConstSpec {
  name: string;
  type: 'float' | 'int64';
  dims: number[];
  values: number[];
}

export type AttrValue = number | number[] | string | ConstSpec;

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  /** Integers that must be INT attributes (ONNX tells int from float by type, JS cannot). */
  intAttrs?: string[];
}

export interface ModelSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: ConstSpec[];
  metadata?: Record<string, string | number>;
  opset?: number;
}

function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ELEM[v.type],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensor(c: ConstSpec): onnx.ITensorProto {
  return c.type === 'float'
    ? { name: c.name, dims: c.dims, dataType: ELEM.float, floatData: c.values }
    : { name: c.name, dims: c.dims, dataType: ELEM.int64, int64Data: c.values };
}

function attribute(name: string, value: AttrValue, isInt: boolean): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: Buffer.from(value) };
  if (Array.isArray(value)) return isInt ? { name, type: T.INTS, ints: value } : { name, type: T.FLOATS, floats: value };
  if (typeof value === 'number') return isInt ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  return { name, type: T.TENSOR, t: tensor(value) };
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'realtime-voice-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'tiny',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map(tensor),
      node: spec.nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v, n.intAttrs?.includes(k) ?? false)),
      })),
    },
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value: String(value) })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export function writeModel(path: string, spec: ModelSpec): string {
  writeFileSync(path, buildModel(spec));
  return path;
}
