#!/usr/bin/env node
import { report, runChecks } from '../lib/doctor';
import { runCli } from '../lib/models/cli';

const args = process.argv.slice(2);
// `realtime-voice doctor` checks every component; everything else is the models CLI.
const main = args[0] === 'doctor' ? runChecks().then((checks) => report(checks)) : runCli(args);
main.then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
  },
);
