import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { infoData } from '../../../lib/wyoming/info';

type Program = { name: string; version: string | null; attribution: { name: string }; models?: Array<{ name: string; languages: string[] }>; voices?: Array<{ name: string; languages: string[]; speakers: Array<{ name: string }> | null }> };

/** A models directory with install records only (what `models pull` leaves), and a voice's .onnx.json. */
function modelsDir(dir: string): void {
  const record = (name: string) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, '.installed.json'), JSON.stringify({ name, files: [] }));
  };
  record('asr-sensevoice-int8');
  record('asr-whisper-tiny-en');
  record('tts-piper-en-us-hfc-female-medium');
  writeFileSync(
    join(dir, 'tts-piper-en-us-hfc-female-medium', 'voice.onnx.json'),
    JSON.stringify({ dataset: 'hfc_female', language: { code: 'en_US' }, audio: { quality: 'medium', sample_rate: 22050 }, speaker_id_map: { a: 0, b: 1 } }),
  );
  record('tts-piper-en-us-kristin-medium'); // its .json missing: listed under its catalog name
  record('llm-gemma-3-270m-q4');
}

describe('Wyoming info from the installed models', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-wyoming-info-'));
  const before = process.env.VOICE_MODELS_DIR;
  modelsDir(dir);
  beforeEach(() => (process.env.VOICE_MODELS_DIR = dir));
  after(() => {
    if (before === undefined) delete process.env.VOICE_MODELS_DIR;
    else process.env.VOICE_MODELS_DIR = before;
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists each recogniser with the languages its name carries, each voice as wyoming-piper names it, the LLM under the agent', () => {
    const info = infoData({ services: ['asr', 'tts', 'handle'], agentName: 'Kitchen', languages: ['de'] }) as Record<string, Program[]>;
    const languages = Object.fromEntries(info.asr[0].models!.map((m) => [m.name, m.languages]));
    assert.deepEqual(languages, { 'asr-whisper-tiny-en': ['en'], 'asr-sensevoice-int8': ['zh', 'en', 'ja', 'ko', 'yue'] });
    assert.deepEqual(
      info.tts[0].voices!.map((v) => [v.name, v.languages, v.speakers]),
      [
        ['en_US-hfc_female-medium', ['en_US'], [{ name: 'a' }, { name: 'b' }]],
        ['tts-piper-en-us-kristin-medium', [], null],
      ],
    );
    assert.equal(info.handle[0].name, 'Kitchen');
    assert.deepEqual(info.handle[0].models!.map((m) => [m.name, m.languages]), [['llm-gemma-3-270m-q4', ['de']]]);
    assert.match(String(info.asr[0].version), /^\d+\.\d+\.\d+$/, "the package's version");
  });

  it('with no recogniser or LLM installed, still one model each (the flow may load its own), and only the services offered', () => {
    process.env.VOICE_MODELS_DIR = join(dir, 'empty');
    const info = infoData({ services: ['asr', 'handle'], agentName: 'A', languages: ['en'] }) as Record<string, Program[]>;
    assert.deepEqual(info.asr[0].models!.map((m) => [m.name, m.languages]), [['asr', ['en']]]);
    assert.deepEqual(info.handle[0].models!.map((m) => m.name), ['llama-llm']);
    assert.deepEqual(info.tts, []);
  });
});
