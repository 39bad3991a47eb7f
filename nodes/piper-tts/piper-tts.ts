import type { Node, NodeAPI } from 'node-red';
import { modelChoices } from '../../lib/models/installed';
import { chosenModel, engineNode } from '../../lib/nodered/engine-node';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import type { SentenceAudio } from '../../lib/tts/piper-engine';
import { MIGRATIONS, type PiperTtsConfig } from './config';
import { TtsController } from './controller';

export = function register(RED: NodeAPI): void {
  function PiperTtsNode(this: Node, raw: PiperTtsConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    engineNode(
      node,
      { modulePath: require.resolve('../../lib/tts/piper-engine'), name: 'piper-tts', options: { modelPath: chosenModel(config.voicePath, 'tts'), threads: config.threads } },
      (engine) =>
        new TtsController(
          (request, { signal, onSentence }) => engine.call('synthesize', request, { signal, onChunk: (c) => onSentence(c as SentenceAudio) }),
          {
            frameMs: config.frameMs,
            maxChars: 20_000,
            synth: { lengthScale: config.lengthScale, noiseScale: config.noiseScale, noiseW: config.noiseW, speakerId: config.speakerId, sentenceSilence: config.sentenceSilence },
          },
          {
            audio: (m) => node.send([m, null, null]),
            control: (m) => node.send([null, m, null]),
            metrics: (m) => node.send([null, null, m]),
            status: (kind, text) => node.status(Status[kind](text)),
            warn: (text) => node.warn(text),
          },
        ),
      'loading voice…',
    );
  }

  RED.nodes.registerType('piper-tts', PiperTtsNode as never);

  // Installed voices for the editor's dropdown.
  RED.httpAdmin.get('/realtime-voice/tts-voices', RED.auth.needsPermission('piper-tts.read'), (_req, res) => {
    res.json(modelChoices('tts'));
  });
};
