import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { renderApiReference } from '../../../scripts/api-reference.ts';

describe('docs/api.md (generated from src/api)', () => {
  it('is what src/api renders (run `npm run crds` after changing src/api)', async () => {
    const committed = await readFile(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    expect(committed).to.equal(renderApiReference());
  });

  it('documents every field with its validation', () => {
    const reference = renderApiReference();
    expect(reference).to.contain('| `spec.replication.replicaCount` | integer |');
    expect(reference).to.match(/`spec\.source` \| object \|.*rule: spec\.source must set exactly one of labTemplateRef or virtualMachineId/);
    expect(reference).to.contain('default `-1`');
  });
});
