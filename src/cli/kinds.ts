import { GALLERY_ATTACHMENT, GROUP, IMAGE_EXPORT, LAB_ACCOUNT, LAB_TEMPLATE, RESOURCES, VERSION, type KindNames, type ServedResource } from '../api/index.ts';

export type NamedResource = KindNames & { resource: ServedResource };

const KINDS: readonly NamedResource[] = [
  { ...LAB_ACCOUNT, resource: RESOURCES[LAB_ACCOUNT.kind] },
  { ...GALLERY_ATTACHMENT, resource: RESOURCES[GALLERY_ATTACHMENT.kind] },
  { ...IMAGE_EXPORT, resource: RESOURCES[IMAGE_EXPORT.kind] },
  { ...LAB_TEMPLATE, resource: RESOURCES[LAB_TEMPLATE.kind] },
];

/**
 * A kind as kubectl accepts one: its name, plural, singular or short name, in any case, optionally
 * qualified by the group (`imageexports.labimages.io`) or version and group (`imageexports.v1alpha1.labimages.io`).
 */
export function resolveKind(text: string): NamedResource | undefined {
  const lower = text.toLowerCase();
  const bare = [`.${VERSION}.${GROUP}`, `.${GROUP}`].reduce((name, suffix) => (name.endsWith(suffix) ? name.slice(0, -suffix.length) : name), lower);
  return KINDS.find((k) => [k.kind.toLowerCase(), k.plural, k.singular, ...k.shortNames].includes(bare));
}

/** `imageexport/cs101-v1`, or undefined when the text is not KIND/NAME of one of our kinds. */
export function parseKindName(text: string): { names: NamedResource; name: string } | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) return undefined;
  const names = resolveKind(text.slice(0, slash));
  return names && { names, name: text.slice(slash + 1) };
}
