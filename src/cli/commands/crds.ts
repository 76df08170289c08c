import type { Command } from 'commander';

export function registerCrdsCommand(program: Command): void {
  program
    .command('crds')
    .description('print the CustomResourceDefinitions as one YAML stream (labimage crds | kubectl apply -f -)')
    .action(async () => {
      const { renderAllCrdsYaml } = await import('../../api/index.ts');
      process.stdout.write(renderAllCrdsYaml());
    });
}
