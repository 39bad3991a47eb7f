import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CodedError } from '../coded-error';

export type RecognizerKind = 'streaming-transducer' | 'streaming-ctc' | 'whisper' | 'moonshine' | 'sensevoice' | 'nemo-ctc';

/** A recogniser found in a model folder, ready for sherpa-onnx. */
export interface RecognizerSpec {
  kind: RecognizerKind;
  /** true: partial results while the user speaks (OnlineRecognizer). */
  streaming: boolean;
  config: Record<string, unknown>;
}

/** The first of `names` that exists in the folder (int8 files first: faster on a CPU). */
function pick(dir: string, files: string[], names: RegExp[]): string | undefined {
  for (const re of names) {
    const hit = files.find((f) => re.test(f));
    if (hit) return join(dir, hit);
  }
  return undefined;
}

function need(dir: string, file: string | undefined, what: string): string {
  if (!file || !existsSync(file)) {
    throw new CodedError(`model folder ${dir} has no ${what}`, 'MODEL_FILE_MISSING', `missing ${what}`.slice(0, 19));
  }
  return file;
}

/**
 * Looks at a sherpa-onnx model folder as it comes out of its archive and
 * says which recogniser it holds, naming any file that is missing. sherpa-onnx
 * exits the whole process on a missing file, so nothing reaches it unchecked.
 */
export function detectRecognizer(dir: string, language = ''): RecognizerSpec {
  if (!existsSync(dir)) throw new CodedError(`model folder not found: ${dir}`, 'MODEL_MISSING', 'model missing');
  const files = readdirSync(dir);
  const tokens = (name = 'tokens.txt') => need(dir, join(dir, name), name);
  const feat = { sampleRate: 16000, featureDim: 80 };
  const common = { numThreads: 1, provider: 'cpu', debug: 0 };

  if (files.some((f) => /^encoder.*\.onnx$/.test(f))) {
    return {
      kind: 'streaming-transducer',
      streaming: true,
      config: {
        featConfig: feat,
        modelConfig: {
          transducer: {
            encoder: need(dir, pick(dir, files, [/^encoder.*\.int8\.onnx$/, /^encoder.*\.onnx$/]), 'encoder*.onnx'),
            decoder: need(dir, pick(dir, files, [/^decoder.*(?<!int8)\.onnx$/, /^decoder.*\.onnx$/]), 'decoder*.onnx'),
            joiner: need(dir, pick(dir, files, [/^joiner.*\.int8\.onnx$/, /^joiner.*\.onnx$/]), 'joiner*.onnx'),
          },
          tokens: tokens(),
          ...(files.includes('bpe.model') ? { modelType: 'zipformer2' } : {}),
          ...common,
        },
        decodingMethod: 'greedy_search',
        enableEndpoint: false,
      },
    };
  }
  if (files.some((f) => /-encoder(\.int8)?\.onnx$/.test(f))) {
    const tok = files.find((f) => /-tokens\.txt$/.test(f));
    return {
      kind: 'whisper',
      streaming: false,
      config: {
        featConfig: feat,
        modelConfig: {
          whisper: {
            encoder: need(dir, pick(dir, files, [/-encoder\.int8\.onnx$/, /-encoder\.onnx$/]), '*-encoder.onnx'),
            decoder: need(dir, pick(dir, files, [/-decoder\.int8\.onnx$/, /-decoder\.onnx$/]), '*-decoder.onnx'),
            language: language || 'en',
            task: 'transcribe',
          },
          tokens: need(dir, tok && join(dir, tok), '*-tokens.txt'),
          ...common,
        },
      },
    };
  }
  if (files.includes('preprocess.onnx')) {
    return {
      kind: 'moonshine',
      streaming: false,
      config: {
        featConfig: feat,
        modelConfig: {
          moonshine: {
            preprocessor: join(dir, 'preprocess.onnx'),
            encoder: need(dir, pick(dir, files, [/^encode.*\.onnx$/]), 'encode*.onnx'),
            uncachedDecoder: need(dir, pick(dir, files, [/^uncached_decode.*\.onnx$/]), 'uncached_decode*.onnx'),
            cachedDecoder: need(dir, pick(dir, files, [/^cached_decode.*\.onnx$/]), 'cached_decode*.onnx'),
          },
          tokens: tokens(),
          ...common,
        },
      },
    };
  }
  const model = need(dir, pick(dir, files, [/^model\.int8\.onnx$/, /^model\.onnx$/]), 'model.onnx');
  if (/sense-?voice/i.test(dir)) {
    return {
      kind: 'sensevoice',
      streaming: false,
      config: { featConfig: feat, modelConfig: { senseVoice: { model, language: language || 'auto', useInverseTextNormalization: 1 }, tokens: tokens(), ...common } },
    };
  }
  // NeMo's cache-aware streaming CTC models look like the offline ones from outside; their archives say "streaming".
  if (/streaming/i.test(basename(dir))) {
    return {
      kind: 'streaming-ctc',
      streaming: true,
      config: { featConfig: feat, modelConfig: { nemoCtc: { model }, tokens: tokens(), ...common }, decodingMethod: 'greedy_search' },
    };
  }
  return {
    kind: 'nemo-ctc',
    streaming: false,
    config: { featConfig: feat, modelConfig: { nemoCtc: { model }, tokens: tokens(), ...common }, decodingMethod: 'greedy_search' },
  };
}
