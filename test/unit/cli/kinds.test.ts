import { expect } from 'chai';
import { parseKindName, resolveKind } from '../../../src/cli/kinds.ts';

describe('cli: kinds as kubectl names them', () => {
  it('takes the kind, plural, singular or short name, in any case, with or without the group', () => {
    for (const text of ['ImageExport', 'imageexports', 'imageexport', 'imgexp', 'IMGEXP', 'imageexports.labimages.io', 'imageexport.v1alpha1.labimages.io']) {
      expect(resolveKind(text)?.kind, text).to.equal('ImageExport');
    }
    expect(resolveKind('lacct')?.resource.plural).to.equal('labaccounts');
    expect(resolveKind('deployments')).to.equal(undefined);
    expect(resolveKind('imageexports.example.com')).to.equal(undefined);
  });

  it('splits KIND/NAME, refusing anything else', () => {
    expect(parseKindName('labtmpl/cs101-template')).to.deep.include({ name: 'cs101-template' });
    expect(parseKindName('labtmpl/cs101-template')?.names.kind).to.equal('LabTemplate');
    for (const text of ['cs101-template', 'labtmpl/', '/cs101', 'pods/x']) expect(parseKindName(text), text).to.equal(undefined);
  });
});
