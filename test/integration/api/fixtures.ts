// Smallest valid object of each kind: the base every invalid or changed manifest derives from.
import { API_VERSION } from '../../../src/api/index.ts';
import type { CustomObject } from './client.ts';

export function labAccount(name: string): CustomObject {
  return { apiVersion: API_VERSION, kind: 'LabAccount', metadata: { name }, spec: { location: 'westeurope' } };
}

export function galleryAttachment(name: string): CustomObject {
  return {
    apiVersion: API_VERSION,
    kind: 'GalleryAttachment',
    metadata: { name },
    spec: { labAccountRef: { name: 'cs-dept' }, gallery: { name: 'labgallery' } },
  };
}

export function imageExport(name: string): CustomObject {
  return {
    apiVersion: API_VERSION,
    kind: 'ImageExport',
    metadata: { name },
    spec: {
      labAccountRef: { name: 'cs-dept' },
      source: { labTemplateRef: { name: 'cs101-template' } },
      image: { name: 'ubuntu-cs101', osType: 'Linux' },
    },
  };
}

export function labTemplate(name: string): CustomObject {
  return {
    apiVersion: API_VERSION,
    kind: 'LabTemplate',
    metadata: { name },
    spec: { labAccountRef: { name: 'cs-dept' }, image: { imageExportRef: { name: 'cs101-v1' } } },
  };
}
