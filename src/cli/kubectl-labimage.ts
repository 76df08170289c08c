#!/usr/bin/env node
// `kubectl labimage ...`: kubectl runs an executable named kubectl-labimage found on PATH and hands
// it every argument after the plugin's name, its global flags (--kubeconfig, --context, -n ...)
// included, and its environment (KUBECONFIG). The commands parse those flags as kubectl does.
import { buildProgram } from './program.ts';

await buildProgram('kubectl labimage').parseAsync(process.argv);
