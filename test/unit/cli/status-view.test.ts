import { expect } from 'chai';
import type { ImageExport, LabTemplate } from '../../../src/api/index.ts';
import { progressBar, renderStatus, statusDocument, table } from '../../../src/cli/status-view.ts';

const now = '2026-01-01T00:00:00Z';

function imageExport(namespace: string, name: string, status?: ImageExport['status']): ImageExport {
  return {
    apiVersion: 'labimages.io/v1alpha1',
    kind: 'ImageExport',
    metadata: { name, namespace },
    spec: { labAccountRef: { name: 'cs-dept' }, source: { labTemplateRef: { name: 't' } }, image: { name: 'ubuntu-cs101', osType: 'Linux' } },
    ...(status ? { status } : {}),
  };
}

function labTemplate(namespace: string, name: string, status?: LabTemplate['status']): LabTemplate {
  return {
    apiVersion: 'labimages.io/v1alpha1',
    kind: 'LabTemplate',
    metadata: { name, namespace },
    spec: { labAccountRef: { name: 'cs-dept' }, image: { imageExportRef: { name: 'cs101-v1' } } },
    ...(status ? { status } : {}),
  };
}

const replicating = imageExport('labs', 'cs101-v1', {
  phase: 'Replicating',
  version: '1.0.2',
  progress: 57,
  regionsReady: '1/3',
  regions: [
    { name: 'westeurope', state: 'Completed', progress: 100, replicaCount: 1 },
    { name: 'northeurope', state: 'Replicating', progress: 40, replicaCount: 2 },
    { name: 'francecentral', state: 'Failed', progress: 12, replicaCount: 1, message: 'capacity' },
  ],
  estimatedMonthlyCost: { amount: '25.40', currency: 'USD' },
  conditions: [{ type: 'Ready', status: 'False', reason: 'ReplicationInProgress', message: '1/3 regions', lastTransitionTime: now, observedGeneration: 1 }],
});

describe('labimage status rendering', () => {
  describe('progressBar', () => {
    it('fills 20 cells in proportion and prints the percentage', () => {
      expect(progressBar(0)).to.equal(`${'░'.repeat(20)}   0%`);
      expect(progressBar(40)).to.equal(`${'█'.repeat(8)}${'░'.repeat(12)}  40%`);
      expect(progressBar(100)).to.equal(`${'█'.repeat(20)} 100%`);
    });

    it('treats a missing progress as 0 and clamps values outside 0..100', () => {
      expect(progressBar(undefined)).to.equal(progressBar(0));
      expect(progressBar(140)).to.equal(progressBar(100));
      expect(progressBar(-5)).to.equal(progressBar(0));
    });
  });

  it('table aligns columns two spaces apart without trailing blanks', () => {
    expect(table([['A', 'BBB', ''], ['CCCC', 'D', 'x']], '  ')).to.deep.equal(['  A     BBB', '  CCCC  D    x']);
  });

  describe('statusDocument (-o json)', () => {
    it('sorts by namespace and name, summarises Ready and keeps the whole status', () => {
      const doc = statusDocument([imageExport('b', 'z'), replicating, imageExport('labs', 'a')], [labTemplate('labs', 't')]);
      expect(doc.kind).to.equal('LabImageStatus');
      expect(doc.exports.map((e) => `${e.namespace}/${e.name}`)).to.deep.equal(['b/z', 'labs/a', 'labs/cs101-v1']);
      expect(doc.exports[2]).to.deep.include({ image: 'ubuntu-cs101', ready: 'False', status: replicating.status });
      expect(doc.exports[0]).to.deep.include({ ready: 'Unknown', status: {} });
      expect(doc.templates).to.deep.equal([{ namespace: 'labs', name: 't', ready: 'Unknown', status: {} }]);
    });

    it('is plain JSON: it round-trips through JSON.stringify', () => {
      const doc = statusDocument([replicating], []);
      expect(JSON.parse(JSON.stringify(doc))).to.deep.equal(doc);
    });
  });

  describe('renderStatus (text)', () => {
    const template = labTemplate('labs', 'cs101-from-export', {
      phase: 'WaitingForImage',
      image: { version: '1.0.2', osState: 'Specialized' },
      conditions: [{ type: 'Ready', status: 'False', reason: 'ReplicationInProgress', message: 'northeurope 40%', lastTransitionTime: now, observedGeneration: 1 }],
    });
    const text = renderStatus(statusDocument([replicating], [template]), { showNamespace: false });

    it('heads each export with image:version, phase, Ready, overall progress, regions and cost', () => {
      expect(text).to.include(`cs101-v1  image ubuntu-cs101:1.0.2  Replicating  ready False  ${progressBar(57)}  regions 1/3  cost USD 25.40/month`);
      expect(text).to.include('ReplicationInProgress: 1/3 regions');
    });

    it('shows one row per region with state, bar, replicas and the failure message', () => {
      const rows = text.split('\n').filter((line) => /^\s+(westeurope|northeurope|francecentral)\s/.test(line));
      expect(rows).to.have.length(3);
      expect(rows[1]).to.match(new RegExp(`northeurope\\s+Replicating\\s+${progressBar(40)}\\s+2$`));
      expect(rows[2]).to.match(/francecentral\s+Failed\s+.+12%\s+1\s+capacity$/);
    });

    it('lists templates with phase, Ready, image version and VM state, without a namespace column unless -A', () => {
      expect(text).to.match(/NAME\s+PHASE\s+READY\s+IMAGE\s+VM\s+MESSAGE/);
      expect(text).to.match(/cs101-from-export\s+WaitingForImage\s+False\s+1\.0\.2 \(Specialized\)\s+-\s+ReplicationInProgress: northeurope 40%/);
      const all = renderStatus(statusDocument([replicating], [template]), { showNamespace: true });
      expect(all).to.include('labs/cs101-v1');
      expect(all).to.match(/NAMESPACE\s+NAME\s+PHASE/);
    });

    it('says "none" for empty lists and shows Pending for an export the operator has not seen', () => {
      expect(renderStatus(statusDocument([], []), { showNamespace: false })).to.equal('IMAGE EXPORTS (0)\n  none\nLAB TEMPLATES (0)\n  none\n');
      const fresh = renderStatus(statusDocument([imageExport('labs', 'new')], []), { showNamespace: false });
      expect(fresh).to.include(`new  image ubuntu-cs101  Pending  ready Unknown  ${progressBar(0)}  regions -  cost -`);
    });
  });
});
