// Preloaded into node-red-dev by scripts/validate.sh: the Flow Library's catalogue, which validate
// fetches only to look for packages and node types with clashing names, cannot be reached from
// here, so it gets an empty one from a server on 127.0.0.1 instead. Every other request is untouched.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const CATALOGUE = 'https://catalogue.nodered.org/catalogue.json';
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ name: 'Node-RED Community catalogue', modules: [] }));
});
server.listen(0, '127.0.0.1');
server.unref();

// The axios node-red-dev itself loads (its own dependency), so its requests pass through here.
const fromTool = createRequire(join(process.env.RV_NODE_RED_DEV, 'node_modules', 'node-red-dev', 'package.json'));
const axios = fromTool('axios');
axios.interceptors.request.use((config) => {
  if (config.url === CATALOGUE) config.url = `http://127.0.0.1:${server.address().port}/catalogue.json`;
  return config;
});
