import type { Node, NodeAPI } from 'node-red';
import type { AsrEvent, AsrOptions } from '../../lib/asr/asr-engine';
import { MAX_FRAME_SECONDS } from '../../lib/audio/format';
import { installedModels, modelChoices } from '../../lib/models/installed';
import { pullCommand } from '../../lib/models/command';
import { TURN_DEFAULTS } from '../../lib/turn/turn-end';
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
    // The turn model when asked for and installed; without it, silence ends turns (said once, in the debug sidebar).
    const turnModel = config.endOfTurn === 'turn-model' ? installedModels('turn')[0]?.path : undefined;
    if (config.endOfTurn === 'turn-model' && !turnModel) node.warn(`no turn model installed: turns end after ${config.minSilence} s of silence (run "${pullCommand('turn-smart-turn-v3')}" for end of turn by a turn model)`);
    const options: AsrOptions = {
      vad: { model: chosenModel(config.vadModel, 'vad'), threshold: config.vadThreshold, minSpeech: config.minSpeech, minSilence: config.minSilence, maxSpeech: config.maxSpeech },
      modelDir: chosenModel(config.modelDir, 'asr'),
      language: config.language.trim(),
      ...(turnModel ? { turn: { model: turnModel, pause: TURN_DEFAULTS.pause, timeout: config.turnTimeout } } : {}),
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
