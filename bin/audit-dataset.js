#!/usr/bin/env node
// Launcher only: the CLI lives in src/cli (compiled to dist/ by `npm ci` / `npm run build`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main();
