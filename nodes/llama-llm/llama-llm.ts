import type { Node, NodeAPI } from 'node-red';
import { modelChoices } from '../../lib/models/installed';
import { modelsDir } from '../../lib/models/models-dir';
import { onClose, onInput, shortReason } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { CONFIG_VERSION, MIGRATIONS, controllerSettings, migrateWires, type LlamaLlmConfig } from './config';
import { LlmController, type LlmOutputs, type LlmSettings } from './controller';
import { defaultThreads, physicalCores } from '../../lib/llm/cpu-cores';
import { createEngine } from './engine-factory';
import type { LlmEngine } from '../../lib/llm/engine';
import { ConversationMemory, fitBudget, truncationSummary } from '../../lib/llm/memory';
import { llmSummariser } from '../../lib/llm/summarise';

export = function register(RED: NodeAPI): void {
  function LlamaLlmNode(this: Node, raw: LlamaLlmConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    // A flow saved with four outputs: its wires keep their meaning on the five of today.
    const wires = migrateWires(raw.version, (raw as unknown as { wires?: string[][] }).wires ?? []);
    if (wires) (node as Node & { updateWires(w: string[][]): void }).updateWires(wires);
    const config = migrate(raw, MIGRATIONS);
    let engine: LlmEngine;
    let settings: LlmSettings;
    try {
      settings = controllerSettings(config);
      engine = createEngine(config);
    } catch (err) {
      // Settings that cannot work: every message says why on the Catch node instead of vanishing.
      node.status(Status.failed(shortReason(err as Error)));
      onInput(node, () => {
        throw err;
      });
      return;
    }
    const memory = new ConversationMemory(
      { tokenBudget: config.tokenBudget, summariseAfter: config.summariseAfter },
      (t) => engine.countTokens(t),
      config.summariseWithLlm ? llmSummariser(engine) : truncationSummary,
    );
    const outputs: LlmOutputs = {
      chunk: (m) => node.send([m, null, null, null, null]),
      reply: (m) => node.send([null, m, null, null, null]),
      toolCall: (m) => node.send([null, null, m, null, null]),
      control: (m) => node.send([null, null, null, m, null]),
      metrics: (m) => node.send([null, null, null, null, m]),
      status: (kind, text) => node.status(Status[kind](text)),
      warn: (message) => node.warn(message),
    };
    const controller = new LlmController(engine, memory, settings, outputs);

    // Load the model (or check and warm the server up) at deploy; a failed start is retried on the next message.
    let starting: Promise<void> | undefined;
    const start = (): Promise<void> => {
      starting ??= engine.start(controller.warmUpMessages()).then(
        ({ contextSize }) => {
          const budget = fitBudget(config.tokenBudget, config.maxTokens, contextSize);
          if (budget < config.tokenBudget) {
            node.warn(`history budget lowered to ${budget} tokens: the model's context (${contextSize}) must also hold the reply (max tokens ${config.maxTokens})`);
            memory.setTokenBudget(budget);
          }
          node.status(Status.ready());
        },
        (err: Error) => {
          starting = undefined;
          node.status(Status.failed(shortReason(err)));
          throw err;
        },
      );
      return starting;
    };
    node.status(Status.waiting(engine.kind === 'server' ? 'connecting…' : 'loading model…'));
    start().catch((err: Error) => node.error(err.message)); // as readable text, with what to do

    onInput(node, async (msg) => {
      const m = msg as unknown as Record<string, unknown>;
      // Control messages never wait for the model: an interrupt must act at once (and can cancel a turn waiting for it).
      await controller.handle(m, m.control == null ? start : undefined);
    });
    onClose(node, async () => {
      await controller.close();
      await engine.close();
    });
  }

  RED.nodes.registerType('llama-llm', LlamaLlmNode as never);

  // Lets the editor offer installed GGUF files in a dropdown instead of a typed path.
  RED.httpAdmin.get('/realtime-voice/llm-models', RED.auth.needsPermission('llama-llm.read'), (_req, res) => {
    res.json({ modelsDir: modelsDir(), ...modelChoices('llm'), physicalCores: physicalCores(), defaultThreads: defaultThreads(), configVersion: CONFIG_VERSION });
  });
};
