import { existsSync, readFileSync } from 'node:fs';
import { codedErrorFamily } from '../coded-error';
import { MISSING_MODEL_STATUS, missingModelMessage } from '../models/missing-model';

/** The parts of a Piper voice's .onnx.json that synthesis needs. */
export interface VoiceConfig {
  sampleRate: number;
  espeakVoice: string;
  phonemeIdMap: Record<string, number[]>;
  numSpeakers: number;
  speakerIdMap: Record<string, number>;
  noiseScale: number;
  lengthScale: number;
  noiseW: number;
}

const STATUS_TEXT: Record<string, string> = {
  VOICE_MISSING: MISSING_MODEL_STATUS.tts,
  VOICE_JSON_MISSING: 'voice .json missing',
  VOICE_JSON_BAD: 'bad voice .json',
  VOICE_UNSUPPORTED: 'unsupported voice',
  VOICE_INVALID: 'bad voice file',
  BAD_SPEAKER: 'bad speaker id',
};

export class VoiceError extends codedErrorFamily(STATUS_TEXT, 'voice error') {}

/** Reads `<voice>.onnx.json` beside `<voice>.onnx`, as rhasspy/piper-voices ships them. */
export function loadVoiceConfig(onnxPath: string): VoiceConfig {
  if (!existsSync(onnxPath)) throw new VoiceError(missingModelMessage('tts', 'voice model', onnxPath), 'VOICE_MISSING');
  const jsonPath = `${onnxPath}.json`;
  if (!existsSync(jsonPath)) {
    throw new VoiceError(`the voice has no ${jsonPath.split(/[\\/]/).pop()}: download it from the same place as the .onnx file`, 'VOICE_JSON_MISSING');
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new VoiceError(`${jsonPath} is not valid JSON: ${(err as Error).message}`, 'VOICE_JSON_BAD');
  }
  const audio = raw.audio as { sample_rate?: number } | undefined;
  const espeak = raw.espeak as { voice?: string } | undefined;
  const inference = (raw.inference ?? {}) as { noise_scale?: number; length_scale?: number; noise_w?: number };
  const map = raw.phoneme_id_map as Record<string, number[]> | undefined;
  if (!audio?.sample_rate || !map || typeof map !== 'object') {
    throw new VoiceError(`${jsonPath} lacks audio.sample_rate or phoneme_id_map: is it a Piper voice?`, 'VOICE_JSON_BAD');
  }
  if ((raw.phoneme_type ?? 'espeak') !== 'espeak') {
    throw new VoiceError(`${jsonPath}: phoneme_type "${String(raw.phoneme_type)}" is not supported (only espeak voices)`, 'VOICE_UNSUPPORTED');
  }
  return {
    sampleRate: audio.sample_rate,
    espeakVoice: espeak?.voice ?? 'en-us',
    phonemeIdMap: map,
    numSpeakers: Number(raw.num_speakers ?? 1),
    speakerIdMap: (raw.speaker_id_map ?? {}) as Record<string, number>,
    noiseScale: inference.noise_scale ?? 0.667,
    lengthScale: inference.length_scale ?? 1,
    noiseW: inference.noise_w ?? 0.8,
  };
}
