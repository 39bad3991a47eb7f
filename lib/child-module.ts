import { extname } from 'node:path';

/**
 * The Node flags that run one of our modules in a child process: a source
 * checkout (tests, `npm start` from TypeScript) runs it under tsx, a built
 * package as plain JavaScript. The parent's own flags (Node-RED's --inspect,
 * mocha's loaders) are not passed on.
 */
export function childExecArgv(modulePath: string): string[] {
  return extname(modulePath) === '.ts' ? ['--require', require.resolve('tsx/cjs')] : [];
}
