import { inputError } from '../coded-error';

/**
 * Tools the model may call. A call leaves the node as an ordinary Node-RED
 * message; the flow runs it (Home Assistant, MQTT, a function node), vetoes
 * it or answers it, and the model goes on with the answer.
 */
export interface ToolDefinition {
  /** What the model calls it: letters, digits, _ and -, as OpenAI and node-llama-cpp accept. */
  name: string;
  description: string;
  /** A JSON schema of the arguments object. */
  parameters: Record<string, unknown>;
  /** Offered only when the turn's speaker is an enrolled voice (voiceprint's tag). */
  needsKnownSpeaker: boolean;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** Runs one call (asks the flow) and resolves with its result; rejects when the turn is aborted. */
export type ToolRunner = (call: ToolCall) => Promise<unknown>;

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

const EMPTY_PARAMETERS = { type: 'object', properties: {} };

/**
 * Tool definitions from the node's settings or a message's `msg.tools`:
 * `{ name, description, parameters, needsKnownSpeaker }`, or OpenAI's
 * `{ type: "function", function: { name, description, parameters } }`.
 * Throws an input error naming the first bad entry.
 */
export function parseTools(value: unknown, where: string): ToolDefinition[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw inputError(`${where} must be a list of tools, got ${typeof value}`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const raw = (entry as { type?: unknown; function?: unknown } | null)?.type === 'function' ? { ...(entry as { function: object }).function, ...withoutOpenAiFields(entry) } : entry;
    if (typeof raw !== 'object' || raw === null) throw inputError(`${where}[${i}] must be an object with a name`);
    const t = raw as Record<string, unknown>;
    if (typeof t.name !== 'string' || !NAME.test(t.name)) {
      throw inputError(`${where}[${i}].name must be 1-64 letters, digits, _ or - (starting with a letter or _), got ${JSON.stringify(t.name)}`);
    }
    if (seen.has(t.name)) throw inputError(`${where} names the tool "${t.name}" twice`);
    seen.add(t.name);
    const parameters = t.parameters ?? EMPTY_PARAMETERS;
    if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters) || (parameters as { type?: unknown }).type !== 'object') {
      throw inputError(`${where}[${i}].parameters of "${t.name}" must be a JSON schema of type "object"`);
    }
    return {
      name: t.name,
      description: typeof t.description === 'string' ? t.description : '',
      parameters: parameters as Record<string, unknown>,
      needsKnownSpeaker: t.needsKnownSpeaker === true,
    };
  });
}

/** Our own flag may sit next to OpenAI's `function` object. */
function withoutOpenAiFields(entry: unknown): Record<string, unknown> {
  const { type: _type, function: _function, ...rest } = entry as Record<string, unknown>;
  return rest;
}

/** The message's tools over the node's: a message's tool replaces the node's tool of the same name. */
export function mergeTools(node: ToolDefinition[], message: ToolDefinition[]): ToolDefinition[] {
  const names = new Set(message.map((t) => t.name));
  return [...node.filter((t) => !names.has(t.name)), ...message];
}

/** What a tool result says to the model: text as it is, anything else as JSON. */
export function resultText(result: unknown): string {
  if (typeof result === 'string') return result;
  return JSON.stringify(result === undefined ? null : result) ?? 'null';
}

/** A call's arguments as the server streamed them (a JSON text); undefined when that is not a JSON object. */
export function parseArguments(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text.trim() || '{}');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON: undefined below
  }
  return undefined;
}

/** Which tools a turn may offer, and which it must refuse because of who is speaking. */
export interface GatedTools {
  offered: ToolDefinition[];
  refused: ToolDefinition[];
}

/**
 * Tools that need a known speaker go to the model only when `speakerName` is
 * an enrolled voice (and on the allow-list, when there is one).
 */
export function gateTools(tools: ToolDefinition[], speakerName: string | undefined, allowed: string[]): GatedTools {
  const known = speakerName !== undefined && (allowed.length === 0 || allowed.includes(speakerName));
  return { offered: tools.filter((t) => !t.needsKnownSpeaker || known), refused: tools.filter((t) => t.needsKnownSpeaker && !known) };
}

/** The line the system prompt gains when tools were refused: the model is told, so it can say so. */
export function refusalNote(refused: ToolDefinition[]): string {
  if (!refused.length) return '';
  const names = refused.map((t) => `${t.name}${t.description ? ` (${t.description})` : ''}`).join(', ');
  return `The speaker's voice is not one you know, so you may not use these actions for them: ${names}. If asked for one, say that you cannot do that for an unknown voice.`;
}
