import type { Node, NodeAPI } from 'node-red';
import type { AsrEvent, AsrOptions } from '../../lib/asr/asr-engine';
import { MAX_FRAME_SECONDS } from '../../lib/audio/format';
import { modelChoices } from '../../lib/models/installed';
import { chosenModel, engineNode } from '../../lib/nodered/engine-node';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { MIGRATIONS, type AsrConfig } from './config';
import { AsrController } from './controller';

export = function register(RED: NodeAPI): void {
  function AsrNode(this: Node, raw: AsrConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    const options: AsrOptions = {
      vad: { model: chosenModel(config.vadModel, 'vad'), threshold: config.vadThreshold, minSpeech: config.minSpeech, minSilence: config.minSilence, maxSpeech: config.maxSpeech },
      modelDir: chosenModel(config.modelDir, 'asr'),
      language: config.language.trim(),
    };
    engineNode(
      node,
      { modulePath: require.resolve('../../lib/asr/asr-engine'), name: 'asr', options },
      (engine) =>
        new AsrController(
          (method, samples, onEvent) =>
            engine.call<AsrEvent[]>(method, samples, { transfer: samples ? [samples.buffer] : undefined, onChunk: (e) => onEvent(e as AsrEvent) }),
          // Behind by 10 s beyond one frame of the largest size taken: a recording handed in as one frame,
          // then live audio, is not falling behind (fuzzing found the speech after such a frame dropped).
          { pauseDuringPrefill: config.pauseDuringPrefill, maxPausedSeconds: 30, maxBacklogSeconds: MAX_FRAME_SECONDS + 10 },
          {
            transcript: (m) => node.send([m, null, null]),
            control: (m) => node.send([null, m, null]),
            metrics: (m) => node.send([null, null, m]),
            status: (kind, text) => node.status(Status[kind](text)),
            warn: (text) => node.warn(text),
          },
        ),
    );
  }

  RED.nodes.registerType('asr', AsrNode as never);

  // Installed recognisers for the editor's dropdown.
  RED.httpAdmin.get('/realtime-voice/asr-models', RED.auth.needsPermission('asr.read'), (_req, res) => {
    res.json(modelChoices('asr'));
  });
};
