/**
 * The message contract of docs/messages.md as code: every kind of message the
 * nodes exchange, with its constructor and guard, the turn fields a node
 * carries over, and the one cancel rule.
 */
export * from './audio';
export * from './control';
export * from './fields';
export * from './llm';
export * from './metrics';
export * from './transcript';
export * from './turns';
