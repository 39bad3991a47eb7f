/**
 * Looks at a sherpa-onnx model folder as it comes out of its archive and says
 * which recogniser it holds, with the sherpa-onnx config to load it. Every
 * file, and every metadata key sherpa-onnx insists on, is checked first: on a
 * missing one sherpa-onnx ends the whole process (Node-RED with it), so here
 * the missing one is named instead.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CodedError } from '../coded-error';
import { damagedFileHint } from '../models/damaged-file';
import { MISSING_MODEL_STATUS, missingModelMessage } from '../models/missing-model';
import { readOnnxMetadata } from './onnx-metadata';

export type RecognizerKind = 'streaming-transducer' | 'streaming-ctc' | 'whisper' | 'moonshine' | 'sensevoice' | 'nemo-ctc';

export interface RecognizerSpec {
  kind: RecognizerKind;
  /** true: OnlineRecognizer, partial results while the user speaks; false: OfflineRecognizer, one result per utterance. */
  streaming: boolean;
  /** The sherpa-onnx-node recogniser config. */
  config: Record<string, unknown>;
}

/**
 * Metadata keys sherpa-onnx 1.13 reads with SHERPA_ONNX_READ_META_DATA (exit
 * when absent): online-nemo-ctc-model.cc, offline-nemo-enc-dec-ctc-model.cc,
 * offline-sense-voice-model.cc.
 */
const REQUIRED_KEYS: Partial<Record<RecognizerKind, string[]>> = {
  'streaming-ctc': ['window_size', 'chunk_shift', 'subsampling_factor', 'vocab_size', 'cache_last_channel_dim1', 'cache_last_channel_dim2', 'cache_last_channel_dim3', 'cache_last_time_dim1', 'cache_last_time_dim2', 'cache_last_time_dim3'],
  'nemo-ctc': ['vocab_size', 'subsampling_factor'],
  sensevoice: ['vocab_size', 'lfr_window_size', 'lfr_window_shift', 'normalize_samples'],
};
/** The CTC decoders of sherpa-onnx exit unless tokens.txt names the blank. */
const BLANKS = ['<blk>', '<eps>', '<blank>'];
const NEMO_CTC_TYPES = ['EncDecCTCModelBPE', 'EncDecCTCModel', 'EncDecHybridRNNTCTCBPEModel'];

export function detectModel(dir: string, language = ''): RecognizerSpec {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CodedError(missingModelMessage('asr', 'recogniser model folder', dir), 'MODEL_MISSING', MISSING_MODEL_STATUS.asr);
  const folder = new Folder(dir);
  const feat = { sampleRate: 16000, featureDim: 80 };
  // One thread: the LLM on the same machine needs the other cores more.
  const common = { numThreads: 1, provider: 'cpu', debug: 0 };

  if (folder.has(/^encoder.*\.onnx$/)) {
    const encoder = folder.need('encoder*.onnx', /^encoder.*\.int8\.onnx$/, /^encoder.*\.onnx$/);
    // sherpa-onnx's usual pairing: int8 encoder and joiner, float decoder.
    const decoder = folder.need('decoder*.onnx', /^decoder.*(?<!\.int8)\.onnx$/, /^decoder.*\.onnx$/);
    const joiner = folder.need('joiner*.onnx', /^joiner.*\.int8\.onnx$/, /^joiner.*\.onnx$/);
    return {
      kind: 'streaming-transducer',
      streaming: true,
      config: {
        featConfig: feat,
        modelConfig: { transducer: { encoder, decoder, joiner }, tokens: folder.need('tokens.txt', /^tokens\.txt$/), modelType: transducerType(encoder), ...common },
        decodingMethod: 'greedy_search',
        enableEndpoint: 0,
      },
    };
  }
  if (folder.has(/-encoder(\.int8)?\.onnx$/)) {
    const encoder = folder.need('*-encoder.onnx', /-encoder\.int8\.onnx$/, /-encoder\.onnx$/);
    checkWhisperLanguage(encoder, language);
    return {
      kind: 'whisper',
      streaming: false,
      config: {
        featConfig: feat,
        modelConfig: {
          whisper: {
            encoder,
            decoder: folder.need('*-decoder.onnx', /-decoder\.int8\.onnx$/, /-decoder\.onnx$/),
            language,
            task: 'transcribe',
            // Whisper was trained on 30 s windows, and faster-whisper pads every utterance to 30 s;
            // sherpa-onnx pads 10 s unless told. Padded to 30 s (3000 frames, sherpa's limit), tiny.en
            // misheard 10 words of the shared clips' 96 instead of 14, for ~1.8x the encoder's time.
            tailPaddings: 3000,
          },
          tokens: folder.need('*-tokens.txt', /-tokens\.txt$/),
          ...common,
        },
      },
    };
  }
  if (folder.has(/^preprocess\.onnx$/)) {
    return {
      kind: 'moonshine',
      streaming: false,
      config: {
        featConfig: feat,
        modelConfig: {
          moonshine: {
            preprocessor: folder.need('preprocess.onnx', /^preprocess\.onnx$/),
            encoder: folder.need('encode*.onnx', /^encode\.int8\.onnx$/, /^encode.*\.onnx$/),
            uncachedDecoder: folder.need('uncached_decode*.onnx', /^uncached_decode\.int8\.onnx$/, /^uncached_decode.*\.onnx$/),
            cachedDecoder: folder.need('cached_decode*.onnx', /^cached_decode\.int8\.onnx$/, /^cached_decode.*\.onnx$/),
          },
          tokens: folder.need('tokens.txt', /^tokens\.txt$/),
          ...common,
        },
      },
    };
  }

  // One model.onnx: its metadata says what it is.
  const model = folder.need('model.onnx', /^model\.int8\.onnx$/, /^model\.onnx$/);
  const tokens = folder.need('tokens.txt', /^tokens\.txt$/);
  const meta = readOnnxMetadata(model);
  const kind: RecognizerKind | undefined =
    meta.model_type === 'sense_voice_ctc'
      ? 'sensevoice'
      : 'cache_last_channel_dim1' in meta
        ? 'streaming-ctc'
        : NEMO_CTC_TYPES.includes(meta.model_type)
          ? 'nemo-ctc'
          : undefined;
  if (!kind) {
    throw new CodedError(
      `${model}: its metadata names no recogniser this node runs (model_type "${meta.model_type ?? ''}"; expected SenseVoice or NeMo CTC): choose another model, or ${damagedFileHint(model)}`,
      'MODEL_UNSUPPORTED',
      'model unsupported',
    );
  }
  const missing = (REQUIRED_KEYS[kind] ?? []).filter((k) => !(k in meta));
  if (missing.length) {
    throw new CodedError(`${model} lacks the metadata ${missing.join(', ')} that sherpa-onnx needs: ${damagedFileHint(model)}`, 'MODEL_METADATA_MISSING', 'model metadata missing');
  }
  if (kind === 'sensevoice') {
    return {
      kind,
      streaming: false,
      config: { featConfig: feat, modelConfig: { senseVoice: { model, language, useInverseTextNormalization: 1 }, tokens, ...common } },
    };
  }
  checkBlank(tokens);
  return {
    kind,
    streaming: kind === 'streaming-ctc',
    config: { featConfig: feat, modelConfig: { nemoCtc: { model }, tokens, ...common }, decodingMethod: 'greedy_search', enableEndpoint: 0 },
  };
}

/** What sherpa-onnx calls the transducer, from the encoder's metadata (saves it loading the encoder twice to find out). */
function transducerType(encoder: string): string {
  const type = readOnnxMetadata(encoder).model_type;
  if (type) return type;
  // icefall's zipformer2 exports are named for their chunking: encoder-…-chunk-16-left-128.onnx.
  if (/chunk-\d+-left-\d+/.test(encoder)) return 'zipformer2';
  throw new CodedError(`${encoder} has no model_type metadata, so sherpa-onnx cannot tell which transducer it is`, 'MODEL_METADATA_MISSING', 'model metadata missing');
}

/** A multilingual Whisper exits on a language it does not know (at the first decode); English-only ones ignore it. */
function checkWhisperLanguage(encoder: string, language: string): void {
  const meta = readOnnxMetadata(encoder);
  if (!language || meta.is_multilingual !== '1') return;
  const known = (meta.all_language_codes ?? '').split(',');
  if (!known.includes(language)) {
    throw new CodedError(`Whisper does not know the language "${language}" (it knows ${known.slice(0, 12).join(', ')}, …)`, 'BAD_SETTING', 'unknown language');
  }
}

function checkBlank(tokens: string): void {
  const symbols = new Set(readFileSync(tokens, 'utf8').split('\n').map((line) => line.split(/\s+/)[0]));
  if (!BLANKS.some((b) => symbols.has(b))) {
    throw new CodedError(`${tokens} has no blank symbol (${BLANKS.join(', ')})`, 'MODEL_FILE_INVALID', 'tokens.txt invalid');
  }
}

/** The files of a model folder; `need` returns the first match of the patterns in order (int8 first where it is faster) or names what is missing. */
class Folder {
  private readonly files: string[];

  constructor(private readonly dir: string) {
    this.files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  }

  has(re: RegExp): boolean {
    return this.files.some((f) => re.test(f));
  }

  need(what: string, ...patterns: RegExp[]): string {
    for (const re of patterns) {
      const hit = this.files.find((f) => re.test(f));
      if (hit) return join(this.dir, hit);
    }
    throw new CodedError(`model folder ${this.dir} has no ${what}`, 'MODEL_FILE_MISSING', `no ${what}`);
  }
}
