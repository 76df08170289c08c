import type { Command } from 'commander';
import { renderAllCrdsYaml } from '../../api/index.ts';

export function registerCrdsCommand(program: Command): void {
  program
    .command('crds')
    .description('print the CustomResourceDefinitions as one YAML stream (labimage crds | kubectl apply -f -)')
    .action(() => {
      process.stdout.write(renderAllCrdsYaml());
    });
}
