// The emulator's configuration: who may call it (principals and their role assignments), which
// regions each subscription may use, ARM's token buckets, resource groups and other resources that
// exist at start (seeds), and faults. One document, JSON or YAML, for `--config FILE`,
// `startEmulator({config})` and `POST /_emulator/config`.
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { EMULATOR_DEFAULT_TOKEN, simulatedSubscriptionId } from '../azure/simulated.ts';
import { ARM_BUCKETS, SUBSCRIPTION_BUCKET_MULTIPLIER } from '../azure/rate-limits.ts';

const RoleAssignment = Type.Object(
  {
    /** `/` (everything), `/subscriptions/{id}` or `/subscriptions/{id}/resourceGroups/{name}`. */
    scope: Type.String({ pattern: '^/(subscriptions/[^/]+(/resourceGroups/[^/]+)?)?$' }),
    /** `read`: GET only (Reader); `write`: every method (Contributor). */
    access: Type.Union([Type.Literal('read'), Type.Literal('write')]),
  },
  { additionalProperties: false },
);

const Principal = Type.Object(
  {
    /** Shown as the client in AuthorizationFailed, as ARM shows a service principal's app id or a user's UPN. */
    name: Type.String({ minLength: 1 }),
    /** Default: a GUID derived from the name, stable across restarts. */
    objectId: Type.Optional(Type.String()),
    /** Default: the config's tenantId. */
    tenantId: Type.Optional(Type.String()),
    /** App (client) id for the token endpoint: with `clientSecret` or `certificate`, a client-credentials request gets a token of this principal. */
    clientId: Type.Optional(Type.String()),
    clientSecret: Type.Optional(Type.String()),
    /** PEM certificate whose key signs client assertions (`ClientCertificateCredential`). */
    certificate: Type.Optional(Type.String()),
    /** Bearer tokens accepted as they are, without the token endpoint. */
    tokens: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    roles: Type.Optional(Type.Array(RoleAssignment)),
  },
  { additionalProperties: false },
);

const Subscription = Type.Object(
  {
    /** Restricted-access and coming-soon regions this subscription may use; `*` for all of them. Default: none. */
    regions: Type.Optional(Type.Array(Type.String())),
    /** Every resource group exists (and is made on first use), as if each had been created. Default: false. */
    implicitResourceGroups: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const Bucket = Type.Object({ size: Type.Number({ minimum: 1 }), refillPerSecond: Type.Number({ minimum: 0 }) }, { additionalProperties: false });

const Buckets = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    /** Multiplies sizes and refill rates (e.g. 0.1 for a test that wants to be throttled sooner). */
    scale: Type.Number({ exclusiveMinimum: 0, default: 1 }),
    reads: Type.Optional(Bucket),
    writes: Type.Optional(Bucket),
    deletes: Type.Optional(Bucket),
    /** The subscription-wide bucket of an operation type is this many times the per-principal one. */
    subscriptionMultiplier: Type.Number({ minimum: 1, default: SUBSCRIPTION_BUCKET_MULTIPLIER }),
  },
  { additionalProperties: false },
);

/** A resource that exists at start: its ARM id and the PUT body that would create it. */
const Seed = Type.Object({ id: Type.String({ pattern: '^/subscriptions/' }), body: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false });

const ConfigDocument = Type.Object(
  {
    tenantId: Type.Optional(Type.String()),
    principals: Type.Optional(Type.Array(Principal)),
    /** Keyed by subscription id; `*` applies to every subscription not listed. */
    subscriptions: Type.Optional(Type.Record(Type.String(), Subscription)),
    buckets: Type.Optional(Buckets),
    seeds: Type.Optional(Type.Array(Seed)),
    /** As `POST /_emulator/faults` takes them. */
    faults: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export type RoleAssignment = Static<typeof RoleAssignment>;
export type PrincipalConfig = Static<typeof Principal> & { objectId: string; tenantId: string; tokens: string[]; roles: RoleAssignment[] };
export type SubscriptionConfig = Required<Static<typeof Subscription>>;
export type BucketConfig = Static<typeof Bucket>;
export type BucketsConfig = Static<typeof Buckets> & { reads: BucketConfig; writes: BucketConfig; deletes: BucketConfig };
export type Seed = Static<typeof Seed>;
type ConfigDocument = Static<typeof ConfigDocument>;

export interface EmulatorConfig {
  tenantId: string;
  principals: PrincipalConfig[];
  subscriptions: Record<string, Static<typeof Subscription>>;
  buckets: BucketsConfig;
  seeds: Seed[];
  faults?: unknown;
}

/** The tenant of principals that name none. */
export const defaultTenantId = '00000000-0000-0000-0000-00000000e1e1';

/** The default principal's well-known token (what the operator sends as its own identity to the embedded emulator). */
export const defaultToken = EMULATOR_DEFAULT_TOKEN;

/**
 * The demo service principal of the default config: examples/ carries a namespace credential
 * Secret with its client id and secret, so Simulated accounts work with no operator flag. It exists
 * in an emulator without an admin token (the embedded one, which only loopback reaches), and in a
 * standalone one only when asked for (`--demo-principal`): its secret is public, never a real credential.
 */
export const demoPrincipal = {
  name: 'labimages-demo',
  clientId: '1abe1a9e-0000-4000-8000-00000000de70',
  clientSecret: 'labimages-demo-not-a-secret',
  /** Contributor on the Simulated accounts' subscription, nothing else. */
  scope: `/subscriptions/${simulatedSubscriptionId}`,
} as const;

/** The principal of the default config that may do everything, the emulator's administrator. */
const administratorName = 'labimages-emulator';

/**
 * Without a config: the zero-setup experience. The default principal (the well-known token) may
 * do everything; the demo principal may write in the Simulated accounts' subscription; every
 * subscription may use every region and has every resource group; ARM's buckets are on, at ARM's
 * sizes.
 */
export function defaultConfigDocument(): unknown {
  const { name, clientId, clientSecret, scope } = demoPrincipal;
  return {
    principals: [
      { name: administratorName, tokens: [defaultToken], roles: [{ scope: '/', access: 'write' }] },
      { name, clientId, clientSecret, roles: [{ scope, access: 'write' }] },
    ],
    subscriptions: { '*': { regions: ['*'], implicitResourceGroups: true } },
  };
}

/**
 * The config of an emulator that requires its admin token (`labimage emulator`): whatever the
 * config says, the administrator is the holder of `adminToken`, and the well-known token opens
 * nothing; the demo principal, whose secret is public, stays only when asked for. Applied to a
 * config kept in a state file too, so a state written before the emulator was protected opens no door.
 */
export function protectedConfig(config: EmulatorConfig, adminToken: string, keepDemoPrincipal = false): EmulatorConfig {
  const others = config.principals
    .filter((principal) => principal.name !== administratorName && (keepDemoPrincipal || principal.name !== demoPrincipal.name))
    .map((principal) => ({ ...principal, tokens: principal.tokens.filter((token) => token !== defaultToken) }));
  const administrator = completePrincipal({ name: administratorName, tokens: [adminToken], roles: [{ scope: '/', access: 'write' }] }, config.tenantId);
  return { ...config, principals: [administrator, ...others] };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A GUID derived from a name: principals keep their object id across restarts without one being written down. */
function derivedGuid(name: string): string {
  const hex = createHash('sha256').update(`labimages-emulator/${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function validated(document: unknown): ConfigDocument {
  const withDefaults = Value.Default(ConfigDocument, structuredClone(document ?? {}));
  const [error] = Value.Errors(ConfigDocument, withDefaults);
  if (error) throw new ConfigError(`emulator config${error.path.replaceAll('/', '.')}: ${error.message}`);
  return withDefaults as ConfigDocument;
}

function completePrincipal(principal: Static<typeof Principal>, tenantId: string): PrincipalConfig {
  return {
    ...principal,
    objectId: principal.objectId ?? derivedGuid(principal.name),
    tenantId: principal.tenantId ?? tenantId,
    tokens: principal.tokens ?? [],
    roles: principal.roles ?? [],
  };
}

function completeBuckets(buckets: Static<typeof Buckets> | undefined): BucketsConfig {
  const given = buckets ?? (Value.Default(Buckets, {}) as Static<typeof Buckets>);
  return { ...given, reads: given.reads ?? ARM_BUCKETS.reads, writes: given.writes ?? ARM_BUCKETS.writes, deletes: given.deletes ?? ARM_BUCKETS.deletes };
}

/** Reads a config document (already parsed from JSON or YAML); refuses what it cannot use, naming the field. */
export function parseConfig(document: unknown): EmulatorConfig {
  const config = validated(document);
  const tenantId = config.tenantId ?? defaultTenantId;
  const principals = (config.principals ?? []).map((principal) => completePrincipal(principal, tenantId));
  const names = new Set<string>();
  for (const principal of principals) {
    if (names.has(principal.name)) throw new ConfigError(`emulator config.principals: the name ${principal.name} is used twice`);
    names.add(principal.name);
  }
  return {
    tenantId,
    principals,
    subscriptions: config.subscriptions ?? {},
    buckets: completeBuckets(config.buckets),
    seeds: config.seeds ?? [],
    ...(config.faults === undefined ? {} : { faults: config.faults }),
  };
}

/**
 * Applies an update (`POST /_emulator/config`): principals are replaced by name or added,
 * subscriptions by id, buckets and the tenant replaced when given; seeds and faults are the
 * caller's to apply.
 */
export function mergeConfig(current: EmulatorConfig, document: unknown): EmulatorConfig {
  const update = validated(document);
  const tenantId = update.tenantId ?? current.tenantId;
  const updated = (update.principals ?? []).map((principal) => completePrincipal(principal, tenantId));
  const kept = current.principals.filter((principal) => !updated.some((next) => next.name === principal.name));
  return {
    tenantId,
    principals: [...kept, ...updated],
    subscriptions: { ...current.subscriptions, ...update.subscriptions },
    buckets: update.buckets ? completeBuckets(update.buckets) : current.buckets,
    seeds: update.seeds ?? [],
    ...(update.faults === undefined ? {} : { faults: update.faults }),
  };
}

/** The settings of a subscription: its own entry, else the `*` entry, else nothing enabled. */
export function subscriptionConfig(config: EmulatorConfig, subscriptionId: string): SubscriptionConfig {
  const key = Object.keys(config.subscriptions).find((id) => id.toLowerCase() === subscriptionId.toLowerCase());
  const entry = (key ? config.subscriptions[key] : config.subscriptions['*']) ?? {};
  return { regions: entry.regions ?? [], implicitResourceGroups: entry.implicitResourceGroups ?? false };
}

/** What `GET /_emulator/config` shows: secrets and tokens left out. */
export function redactedConfig(config: EmulatorConfig): unknown {
  return {
    ...config,
    principals: config.principals.map(({ clientSecret, tokens, ...principal }) => ({
      ...principal,
      ...(clientSecret === undefined ? {} : { clientSecret: '(set)' }),
      tokens: tokens.map(() => '(set)'),
    })),
  };
}

/** What the state file keeps of a config: seeds and faults are applied, not kept. */
export type StoredConfig = Omit<EmulatorConfig, 'seeds' | 'faults'>;

export function storedPart(config: EmulatorConfig): StoredConfig {
  return { tenantId: config.tenantId, principals: config.principals, subscriptions: config.subscriptions, buckets: config.buckets };
}
