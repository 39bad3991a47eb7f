/**
 * Run in a child process by gguf-probe.ts: loads a GGUF with node-llama-cpp
 * and generates one token. Should llama.cpp abort on the file (a failed
 * GGML_ASSERT), only this process dies. Exit 0: the model works; exit 3:
 * node-llama-cpp refused it with an error, which the real load will report.
 */
import { importEsm } from '../esm';

async function main(): Promise<void> {
  const [modelPath, threadsArg] = process.argv.slice(2);
  const threads = Number(threadsArg);
  const lib = await importEsm<typeof import('node-llama-cpp')>('node-llama-cpp');
  const llama = await lib.getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: lib.LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 256, threads });
  await new lib.LlamaChatSession({ contextSequence: context.getSequence() }).prompt('Hello', { maxTokens: 1 });
}

main().then(
  () => process.exit(0),
  () => process.exit(3),
);
