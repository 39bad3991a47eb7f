/** The pipeline stages that report figures. */
export type Stage = 'asr' | 'llm' | 'tts' | 'speaker' | 'voiceprint' | 'aec';

/** One stage's figures for one turn (or, for voiceprint, one decision); times in milliseconds. */
export interface MetricsMessage<P extends object = Record<string, unknown>> {
  topic: 'metrics';
  stage: Stage;
  turnId?: string;
  /** The room the turn belongs to, when it has one: a dashboard per room reads its own figures. */
  room?: string;
  payload: P;
  [key: string]: unknown;
}

export function metrics<P extends object>(stage: Stage, turnId: string | undefined, payload: P, room?: string): MetricsMessage<P> {
  return { topic: 'metrics', stage, ...(turnId !== undefined ? { turnId } : {}), ...(room !== undefined ? { room } : {}), payload };
}

export function isMetrics(msg: unknown): msg is MetricsMessage {
  const m = msg as Partial<MetricsMessage> | null;
  return typeof m === 'object' && m !== null && m.topic === 'metrics' && typeof m.stage === 'string' && typeof m.payload === 'object' && m.payload !== null;
}
