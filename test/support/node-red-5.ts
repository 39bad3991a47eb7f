/**
 * Loaded with `--import` before the tests of the Node-RED 5 leg (scripts/node22.sh sets
 * $RV_NODE_RED to that install): `require('node-red')` and `require.resolve('node-red')`,
 * which every node test hands to node-red-node-test-helper, find Node-RED 5 instead of the
 * checkout's Node-RED 4.1. Nothing else is redirected: the package and its engines stay as built.
 */
import Module from 'node:module';
import { join } from 'node:path';

const home = process.env.RV_NODE_RED;
if (!home) throw new Error('RV_NODE_RED is not set: run the tests through scripts/node22.sh');

type Resolve = (request: string, ...rest: unknown[]) => string;
const modules = Module as unknown as { _resolveFilename: Resolve };
const resolve = modules._resolveFilename;
modules._resolveFilename = function (request, ...rest) {
  if (request === 'node-red' || request.startsWith('node-red/')) return resolve.call(this, join(home, request.slice('node-red'.length)), ...rest);
  return resolve.call(this, request, ...rest);
};
