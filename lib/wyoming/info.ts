/**
 * What `describe` answers: Wyoming's `info` event, listing the programs this
 * server offers as Home Assistant shows them (name, languages, version,
 * attribution), built from what is really installed: the catalog's
 * recognisers and Piper voices in $VOICE_MODELS_DIR, and the LLM that the
 * conversation agent runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG } from '../models/catalog';
import { installedModels, type InstalledModel } from '../models/installed';
import { packageRoot } from '../models/command';

export type Service = 'asr' | 'tts' | 'handle';
export const SERVICES: readonly Service[] = ['asr', 'tts', 'handle'];

export interface InfoOptions {
  services: readonly Service[];
  /** The conversation agent's name in Home Assistant. */
  agentName: string;
  /** Languages the flow answers in (the agent's, and the recogniser's when its model does not say). */
  languages: string[];
}

const PACKAGE = 'node-red-contrib-realtime-voice';
const HOMEPAGE = 'https://github.com/realtime-voice/node-red-contrib-realtime-voice';
const ATTRIBUTION = { name: PACKAGE, url: HOMEPAGE };
const SHERPA = { name: 'k2-fsa (sherpa-onnx)', url: 'https://github.com/k2-fsa/sherpa-onnx' };
const PIPER = { name: 'rhasspy (Piper voices)', url: 'https://huggingface.co/rhasspy/piper-voices' };
const LLAMA = { name: 'llama.cpp', url: 'https://github.com/ggml-org/llama.cpp' };

/** Language codes in the catalog's recogniser names (asr-zipformer-zh-en) and archives (sense-voice-zh-en-ja-ko-yue). */
const NAME_LANGUAGES = new Set(['en', 'zh', 'ja', 'ko', 'yue', 'de', 'fr', 'es', 'ru', 'it']);

let version: string | undefined;
function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

function artifact(name: string, description: string, attribution = ATTRIBUTION, ver: string | null = packageVersion()) {
  return { name, attribution, installed: true, description, version: ver };
}

/** The languages a recogniser's catalog name or download name carries (sherpa-onnx names its archives so), else the fallback. */
function recogniserLanguages(model: Pick<InstalledModel, 'name'>, fallback: string[]): string[] {
  const names = [model.name, ...(CATALOG.find((e) => e.name === model.name)?.files.map((f) => f.path) ?? [])];
  const found = new Set(names.flatMap((n) => n.split(/[-_.]/)).filter((part) => NAME_LANGUAGES.has(part)));
  return found.size ? [...found] : fallback;
}

/** A Piper voice as wyoming-piper names it (en_US-joe-medium), its language and speakers, from its .onnx.json. */
export function voiceInfo(model: InstalledModel): { name: string; languages: string[]; speakers: { name: string }[] | null } {
  try {
    const json = JSON.parse(readFileSync(`${model.path}.json`, 'utf8')) as { dataset?: string; language?: { code?: string }; audio?: { quality?: string }; speaker_id_map?: Record<string, number> };
    const code = json.language?.code;
    const name = code && json.dataset && json.audio?.quality ? `${code}-${json.dataset}-${json.audio.quality}` : model.name;
    const speakers = Object.keys(json.speaker_id_map ?? {});
    return { name, languages: code ? [code] : [], speakers: speakers.length ? speakers.map((s) => ({ name: s })) : null };
  } catch {
    return { name: model.name, languages: [], speakers: null }; // a voice without its .json: piper-tts says why when it loads
  }
}

function asrProgram(languages: string[]) {
  const installed = installedModels('asr');
  // A flow may run a recogniser from its own folder: the program is still there, named for the node.
  const models = installed.length
    ? installed.map((m) => ({ ...artifact(m.name, m.description, SHERPA, null), languages: recogniserLanguages(m, languages) }))
    : [{ ...artifact('asr', "the flow's asr node", ATTRIBUTION), languages }];
  return { ...artifact('realtime-voice-asr', 'Speech to text: the asr node of a Node-RED flow (Silero VAD, sherpa-onnx)'), models, supports_transcript_streaming: false };
}

function ttsProgram() {
  const voices = installedModels('tts').map((m) => {
    const v = voiceInfo(m);
    return { ...artifact(v.name, m.description, PIPER, null), languages: v.languages, speakers: v.speakers };
  });
  return { ...artifact('realtime-voice-tts', 'Text to speech: the piper-tts node of a Node-RED flow'), voices, supports_synthesize_streaming: true };
}

function handleProgram(agentName: string, languages: string[]) {
  const llms = installedModels('llm');
  const models = (llms.length ? llms : [{ name: 'llama-llm', description: "the flow's llama-llm node" }]).map((m) => ({ ...artifact(m.name, m.description, LLAMA, null), languages }));
  return { ...artifact(agentName, 'Conversation agent: the llama-llm node of a Node-RED flow'), models, supports_handled_streaming: false, supports_home_control: false };
}

/** The data of the `info` event. */
export function infoData(options: InfoOptions): Record<string, unknown> {
  const has = (s: Service) => options.services.includes(s);
  return {
    asr: has('asr') ? [asrProgram(options.languages)] : [],
    tts: has('tts') ? [ttsProgram()] : [],
    handle: has('handle') ? [handleProgram(options.agentName, options.languages)] : [],
    intent: [],
    wake: [],
    mic: [],
    snd: [],
  };
}
