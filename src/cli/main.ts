#!/usr/bin/env node
import { runCli } from './program.js';

runCli(process.argv).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`agentjobs: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
