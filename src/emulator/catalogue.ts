/** The marketplace images the emulator can start a VM from: a few that lab platforms start from. */
export interface MarketplaceImage {
  publisher: string;
  offer: string;
  sku: string;
  version: string;
  osType: 'Windows' | 'Linux';
  osDiskSizeGiB: number;
  hyperVGeneration: 'V1' | 'V2';
}

export const marketplaceImages: readonly MarketplaceImage[] = [
  { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: '24.04.202509150', osType: 'Linux', osDiskSizeGiB: 30, hyperVGeneration: 'V2' },
  { publisher: 'Debian', offer: 'debian-12', sku: '12-gen2', version: '0.20250910.2232', osType: 'Linux', osDiskSizeGiB: 30, hyperVGeneration: 'V2' },
  { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-24h2-pro', version: '26100.4946.250910', osType: 'Windows', osDiskSizeGiB: 127, hyperVGeneration: 'V2' },
  { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition', version: '20348.4171.250903', osType: 'Windows', osDiskSizeGiB: 127, hyperVGeneration: 'V2' },
];

/** Matches ARM's rules: names case-insensitively, `latest` or the exact version. */
export function findMarketplaceImage(reference: { publisher?: unknown; offer?: unknown; sku?: unknown; version?: unknown }): MarketplaceImage | undefined {
  const same = (a: unknown, b: string) => typeof a === 'string' && a.toLowerCase() === b.toLowerCase();
  return marketplaceImages.find(
    (image) =>
      same(reference.publisher, image.publisher) &&
      same(reference.offer, image.offer) &&
      same(reference.sku, image.sku) &&
      (reference.version === undefined || same(reference.version, 'latest') || same(reference.version, image.version)),
  );
}
