import type { ChatMessage, GenerateMarks, GenerateRequest } from './engine';
import { parseArguments, resultText, type ToolCall, type ToolDefinition } from './tools';

/** A call as a server streamed it: the arguments are still JSON text. */
export interface StreamedCall {
  id: string;
  name: string;
  arguments: string;
}

/** One request to the model: what it said, and the calls it ended with. */
export interface Round {
  marks: GenerateMarks;
  text: string;
  calls: StreamedCall[];
}

/**
 * Rounds of tool calls in one turn. The last round offers no tools, so a
 * model that keeps calling must answer in words.
 */
export const MAX_TOOL_ROUNDS = 4;

/**
 * The tool loop of an engine that hands calls back (OpenAI's
 * /v1/chat/completions, node-llama-cpp's LlamaChat): ask, run the calls the model made (all of them at
 * once), give it the results, ask again, until it answers in words.
 */
export async function withToolRounds(
  request: GenerateRequest,
  round: (messages: ChatMessage[], tools: ToolDefinition[] | undefined, forced: boolean) => Promise<Round>,
): Promise<GenerateMarks> {
  const { tools, callTool } = request;
  let messages = request.messages;
  let first: Round | undefined;
  let tokens = 0;
  let firstToken: number | null = null;
  for (let i = 0; ; i++) {
    const offer = tools?.length && callTool && i < MAX_TOOL_ROUNDS ? tools : undefined;
    // `required`: the first reply must be a call; the model answers freely after its result.
    const r = await round(messages, offer, i === 0 && offer !== undefined && request.toolChoice === 'required');
    first ??= r;
    tokens += r.marks.tokens;
    firstToken ??= r.marks.firstToken;
    if (!offer || !r.calls.length) {
      return { ...first.marks, firstToken, end: r.marks.end, tokens, truncated: r.marks.truncated };
    }
    const calls: ToolCall[] = r.calls.map((c) => ({ id: c.id, name: c.name, arguments: parseArguments(c.arguments) ?? {} }));
    const results = await Promise.all(
      r.calls.map((c, j) => (parseArguments(c.arguments) ? callTool!(calls[j]) : { error: `the arguments were not a JSON object: ${c.arguments.slice(0, 80)}` })),
    );
    messages = [
      ...messages,
      { role: 'assistant', content: r.text, toolCalls: calls },
      ...calls.map((c, j): ChatMessage => ({ role: 'tool', toolCallId: c.id, content: resultText(results[j]) })),
    ];
  }
}
