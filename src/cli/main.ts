#!/usr/bin/env node
import { buildProgram } from './program.ts';

await buildProgram('labimage').parseAsync(process.argv);
