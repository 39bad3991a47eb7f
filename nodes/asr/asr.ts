import type { Node, NodeAPI } from 'node-red';
import type { AsrEvent, AsrInfo } from '../../lib/asr/asr-engine';
import { EngineHost } from '../../lib/engine/host';
import { installedModels } from '../../lib/models/installed';
import { onClose, onInput, shortReason } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { MIGRATIONS, type AsrConfig } from './config';
import { AsrController } from './controller';


export = function register(RED: NodeAPI): void {
  function AsrNode(this: Node, raw: AsrConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    const vadModel = config.vadModel.trim() || installedModels('vad')[0]?.path || '';
    const modelDir = config.modelDir.trim() || installedModels('asr')[0]?.path || '';
    const engine = new EngineHost({
      modulePath: require.resolve('../../lib/asr/asr-engine'),
      name: 'asr',
      options: {
        vad: { model: vadModel, threshold: config.vadThreshold, minSpeech: config.minSpeech, minSilence: config.minSilence, maxSpeech: config.maxSpeech },
        modelDir,
        language: config.language,
      },
    });
    engine.on('crash', (err: Error) => node.warn(`${err.message}; restarting`));
    const controller = new AsrController(
      (method, samples) => engine.call<AsrEvent[]>(method, samples, { transfer: [samples.buffer] }),
      { pauseDuringPrefill: config.pauseDuringPrefill, maxPausedSeconds: 30 },
      {
        transcript: (m) => node.send([m, null, null]),
        control: (m) => node.send([null, m, null]),
        metrics: (m) => node.send([null, null, m]),
        status: (kind, text) => node.status(Status[kind](text)),
      },
    );

    node.status(Status.waiting('loading model…'));
    engine.start().then(
      (info) => node.status((info as AsrInfo).kind === 'vad-only' ? Status.ready('VAD only') : Status.ready('listening')),
      (err: Error) => {
        node.status(Status.failed(shortReason(err)));
        node.error(vadModel ? err : new Error(`${err.message}: run "npx realtime-voice models pull vad-silero" or set the VAD model path`));
      },
    );

    onInput(node, (msg) => {
      const m = msg as unknown as Record<string, unknown>;
      // The end of a recording (msg.flush): an utterance in progress ends now.
      return m.flush === true ? controller.flush() : controller.handle(m);
    });
    onClose(node, () => engine.close());
  }

  RED.nodes.registerType('asr', AsrNode as never);

  // Installed recognisers for the editor's dropdown.
  RED.httpAdmin.get('/realtime-voice/asr-models', RED.auth.needsPermission('asr.read'), (_req, res) => {
    res.json({ installed: installedModels('asr') });
  });
};
