export * from './errors';
export * from './format';
export * from './pcm';
export * from './resample';
export * from './framer';
export * from './wav';
export * from './validate';
export * from './message';
