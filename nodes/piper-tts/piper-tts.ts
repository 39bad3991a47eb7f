import type { Node, NodeAPI } from 'node-red';
import { EngineHost } from '../../lib/engine/host';
import { installedModels, modelChoices } from '../../lib/models/installed';
import { onClose, onInput, shortReason } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import type { SentenceAudio } from '../../lib/tts/piper-engine';
import { MIGRATIONS, type PiperTtsConfig } from './config';
import { TtsController, type Synthesize } from './controller';


export = function register(RED: NodeAPI): void {
  function PiperTtsNode(this: Node, raw: PiperTtsConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    const voice = config.voicePath.trim() || installedModels('tts')[0]?.path || '';
    const engine = new EngineHost({ modulePath: require.resolve('../../lib/tts/piper-engine'), name: 'piper-tts', options: { modelPath: voice, threads: config.threads } });
    engine.on('crash', (err: Error) => node.warn(`${err.message}; restarting`));

    const synthesize: Synthesize = (request, { signal, onSentence }) =>
      engine.call('synthesize', request, { signal, onChunk: (c) => onSentence(c as SentenceAudio) });
    const controller = new TtsController(
      synthesize,
      {
        frameMs: config.frameMs,
        maxChars: 20_000,
        synth: { lengthScale: config.lengthScale, noiseScale: config.noiseScale, noiseW: config.noiseW, speakerId: config.speakerId, sentenceSilence: config.sentenceSilence },
      },
      {
        audio: (m) => node.send([m, null, null]),
        metrics: (m) => node.send([null, m, null]),
        control: (m) => node.send([null, null, m]),
        status: (kind, text) => node.status(Status[kind](text)),
        warn: (text) => node.warn(text),
      },
    );

    node.status(Status.waiting('loading voice…'));
    engine.start().then(
      () => node.status(Status.ready()),
      (err: Error) => {
        // A missing voice's error names the command that installs it (lib/tts/voice.ts).
        node.status(Status.failed(shortReason(err)));
        node.error(err.message);
      },
    );

    onInput(node, (msg) => controller.handle(msg as unknown as Record<string, unknown>));
    onClose(node, async () => {
      controller.close();
      await engine.close();
    });
  }

  RED.nodes.registerType('piper-tts', PiperTtsNode as never);

  // Installed voices for the editor's dropdown.
  RED.httpAdmin.get('/realtime-voice/tts-voices', RED.auth.needsPermission('piper-tts.read'), (_req, res) => {
    res.json(modelChoices('tts'));
  });
};
