// The Azure clouds a LabAccount can live in (spec.azure.cloud): where Resource Manager answers,
// where Microsoft Entra ID issues tokens, and the audience those tokens are for. The SDK sets none
// of this from the endpoint: @azure/arm-compute asks for public Azure's
// `https://management.azure.com/.default` whatever endpoint it is given, and @azure/identity signs
// in at login.microsoftonline.com unless told otherwise.

export const CLOUD_NAMES = ['AzurePublicCloud', 'AzureUSGovernment', 'AzureChinaCloud'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export interface AzureCloud {
  name: CloudName;
  /** Resource Manager's endpoint (no trailing slash). */
  armEndpoint: string;
  /** Microsoft Entra ID's authority host, as @azure/identity's `authorityHost` takes it. */
  authorityHost: string;
  /** The token scope for Resource Manager: its audience with `/.default`. */
  armScope: string;
}

/**
 * The values of learn.microsoft.com's national-cloud endpoint tables; the SDKs' own enums
 * (@azure/identity's AzureAuthorityHosts, @azure/arm-compute's cloud settings) hold the same
 * hosts, and a unit test holds them to it. Kept here rather than read from @azure/identity so an
 * operator that serves only Simulated accounts never loads it.
 */
const clouds: Record<CloudName, AzureCloud> = {
  AzurePublicCloud: {
    name: 'AzurePublicCloud',
    armEndpoint: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com',
    armScope: 'https://management.azure.com/.default',
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    armEndpoint: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
    armScope: 'https://management.usgovcloudapi.net/.default',
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    armEndpoint: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn',
    armScope: 'https://management.chinacloudapi.cn/.default',
  },
};

export const DEFAULT_CLOUD: CloudName = 'AzurePublicCloud';

export function azureCloud(name: CloudName = DEFAULT_CLOUD): AzureCloud {
  return clouds[name];
}

/** The token scope for a Resource Manager at `endpoint` (its audience is its origin). */
export function armScopeOf(endpoint: string): string {
  return `${new URL(endpoint).origin}/.default`;
}
