import type { TurnFields } from './fields';

/** One sentence (or clause) of a reply, ready to be spoken; `parts` lets a core Join node rebuild the reply. */
export interface LlmChunkMessage extends TurnFields {
  /** Any other property (Node-RED's _msgid, a flow's own fields). */
  [key: string]: unknown;
  topic: 'llm-chunk';
  payload: string;
  turnId: string;
  conversationId: string;
  index: number;
  /** The last chunk of the reply (its payload may be empty). */
  complete: boolean;
  parts: { id: string; index: number; type: 'string'; ch: ''; count?: number };
  /** The last chunk of a failed turn: the node's "On failure say" text. */
  fallback?: true;
}

export function llmChunk(text: string, index: number, complete: boolean, fields: TurnFields & { turnId: string; conversationId: string }, fallback = false): LlmChunkMessage {
  const parts: LlmChunkMessage['parts'] = { id: fields.turnId, index, type: 'string', ch: '' };
  if (complete) parts.count = index + 1;
  return { ...fields, topic: 'llm-chunk', payload: text, index, complete, parts, ...(fallback ? { fallback: true as const } : {}) };
}

export function isLlmChunk(msg: unknown): msg is LlmChunkMessage {
  const m = msg as Partial<LlmChunkMessage> | null;
  return typeof m === 'object' && m !== null && m.topic === 'llm-chunk' && typeof m.payload === 'string' && typeof m.complete === 'boolean';
}

/**
 * The whole reply, for the user's flow: it keeps every property of the
 * question (an http-in's msg.res, a flow's own context), as a Node-RED node's
 * result does.
 */
export function llmReply(question: Record<string, unknown>, text: string, fields: { turnId: string; conversationId: string; interrupted: boolean; truncated: boolean }): Record<string, unknown> {
  return { ...question, ...fields, topic: 'llm-reply', payload: text };
}

/**
 * A tool call of the model, for the flow to run, veto or answer: the flow
 * sends `msg.toolResult` with this `toolCallId` back to llama-llm's input.
 */
export interface LlmToolCallMessage extends TurnFields {
  [key: string]: unknown;
  topic: 'llm-tool-call';
  payload: { name: string; arguments: Record<string, unknown> };
  toolCallId: string;
  turnId: string;
  conversationId: string;
}

export function llmToolCall(
  call: { id: string; name: string; arguments: Record<string, unknown> },
  fields: TurnFields & { turnId: string; conversationId: string },
): LlmToolCallMessage {
  return { ...fields, topic: 'llm-tool-call', payload: { name: call.name, arguments: call.arguments }, toolCallId: call.id };
}
