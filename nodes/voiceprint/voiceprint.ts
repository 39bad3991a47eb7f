import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { EngineHost } from '../../lib/engine/host';
import { installedModels } from '../../lib/models/installed';
import { onClose, onInput, shortReason } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { ProfileStore } from '../../lib/voiceprint/profile-store';
import type { VoiceprintEvent } from '../../lib/voiceprint/voiceprint-engine';
import { MIGRATIONS, type VoiceprintConfig } from './config';
import { VoiceprintController } from './controller';
import { registerProfileEndpoints } from './profile-endpoints';

/** The profile stores of deployed nodes, for the editor's list and delete buttons. */
const liveStores = new Set<ProfileStore>();

export = function register(RED: NodeAPI): void {
  function VoiceprintNode(this: Node, raw: VoiceprintConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    const model = config.model.trim() || installedModels('speaker')[0]?.path || '';
    const vadModel = config.vadModel.trim() || installedModels('vad')[0]?.path || '';
    // Enrolments live in the user directory, not node context (wiped on redeploy).
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
    const store = new ProfileStore(join(userDir, 'realtime-voice', 'voiceprints.json'), basename(model || 'none'));
    if (store.problem) node.warn(store.problem);
    liveStores.add(store);
    const engine = new EngineHost({
      modulePath: require.resolve('../../lib/voiceprint/voiceprint-engine'),
      name: 'voiceprint',
      options: { model, decisionSeconds: config.decisionSeconds, vad: { model: vadModel, threshold: 0.5, minSpeech: 0.25, minSilence: 0.5, maxSpeech: 20 } },
    });
    const controller = new VoiceprintController(
      {
        stream: (samples) => engine.call<VoiceprintEvent[]>('audio', samples, { transfer: [samples.buffer] }),
        enrol: (samples) => engine.call<number[]>('enrol', samples),
        store,
        readFile: (path) => readFile(path),
      },
      { mode: config.mode, threshold: config.threshold, selfName: config.selfName, selfSampleSeconds: 3, selfSamples: 5, delayMs: 500 },
      {
        audio: (m) => node.send([m, null]),
        events: (m) => node.send([null, m]),
        status: (kind, text) => node.status(Status[kind](text)),
        error: (err, m) => node.error(err, m),
      },
    );
    engine.on('crash', (err: Error) => {
      node.warn(`${err.message}; restarting`);
      node.status(Status.waiting('restarting'));
      controller.restarted();
    });
    engine.on('failed', (err: Error) => node.status(Status.failed(shortReason(err))));
    const readyText = () => (store.names().length ? `${store.names().length} voices` : 'no voices yet');
    engine.on('ready', () => node.status(Status.ready(readyText())));
    node.status(Status.waiting('loading model…'));
    engine.start().catch((err: Error) => {
      node.status(Status.failed(shortReason(err)));
      node.error(err.message); // as readable text; a missing model's error names the command that installs it
    });
    onInput(node, (msg) => controller.handle(msg as unknown as Record<string, unknown>));
    onClose(node, async () => {
      liveStores.delete(store);
      await engine.close();
    });
  }

  RED.nodes.registerType('voiceprint', VoiceprintNode as never);

  // Enrolled voices for the editor: list and delete.
  registerProfileEndpoints(RED, liveStores);
};
