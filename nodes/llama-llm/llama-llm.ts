import type { Node, NodeAPI } from 'node-red';
import { installedModels } from '../../lib/models/installed';
import { modelsDir } from '../../lib/models/models-dir';
import { onClose, onInput, shortReason } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { CONFIG_VERSION, MIGRATIONS, type LlamaLlmConfig } from './config';
import { LlmController, type LlmOutputs } from './controller';
import { physicalCores } from './cpu-cores';
import { createEngine } from './engine-factory';
import type { LlmEngine } from './engine';
import { ConversationMemory, truncationSummary, type Summariser } from './memory';
import { styleText } from './styles';
import { llmSummariser } from './summarise';

export = function register(RED: NodeAPI): void {
  function LlamaLlmNode(this: Node, raw: LlamaLlmConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    let engine: LlmEngine;
    try {
      engine = createEngine(config);
    } catch (err) {
      node.status(Status.failed('bad settings'));
      node.error(err);
      return;
    }
    const summarise: Summariser = config.summariseWithLlm ? llmSummariser(engine) : truncationSummary;
    const memory = new ConversationMemory({ tokenBudget: config.tokenBudget, summariseAfter: config.summariseAfter }, (t) => engine.countTokens(t), summarise);
    const outputs: LlmOutputs = {
      chunk: (m) => node.send([m, null, null, null]),
      metrics: (m) => node.send([null, m, null, null]),
      reply: (m) => node.send([null, null, m, null]),
      control: (m) => node.send([null, null, null, m]),
      status: (kind, text) => node.status(Status[kind](text)),
    };
    const controller = new LlmController(
      engine,
      memory,
      {
        systemPrompt: config.systemPrompt,
        style: styleText(config.style, config.customStyle),
        sampling: { maxTokens: config.maxTokens, temperature: config.temperature, topK: 40, topP: 0.95, lowLatency: config.lowLatency },
        chunker: { firstMaxChars: config.firstChunkChars, maxChars: config.maxChunkChars },
        maxInputChars: 4000,
      },
      outputs,
    );

    // Load the model (or warm the server up) at deploy; a failed start is retried on the next message.
    let starting: Promise<void> | undefined;
    const start = (): Promise<void> => {
      starting ??= engine.start().then(
        () => node.status(Status.ready()),
        (err: Error) => {
          starting = undefined;
          node.status(Status.failed(shortReason(err)));
          throw err;
        },
      );
      return starting;
    };
    node.status(Status.waiting(engine.kind === 'server' ? 'connecting…' : 'loading model…'));
    start().catch((err: Error) => node.error(err));

    onInput(node, async (msg) => {
      const m = msg as unknown as Record<string, unknown>;
      if (m.control == null) await start();
      await controller.handle(m);
    });
    onClose(node, async () => {
      await controller.close();
      await engine.close();
    });
  }

  RED.nodes.registerType('llama-llm', LlamaLlmNode as never);

  // Lets the editor offer installed GGUF files in a dropdown instead of a typed path.
  RED.httpAdmin.get('/realtime-voice/llm-models', RED.auth.needsPermission('llama-llm.read'), (_req, res) => {
    res.json({ modelsDir: modelsDir(), installed: installedModels('llm'), physicalCores: physicalCores(), configVersion: CONFIG_VERSION });
  });
};
