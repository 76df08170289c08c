// Building blocks shared by the four kinds. Every schema here must stay *structural* in the
// Kubernetes sense (a `type` on every node, no anyOf/oneOf/const), because the same TypeBox value
// becomes both a TypeScript type and a CRD's openAPIV3Schema.
import { FormatRegistry, Kind, Type, TypeRegistry, type SchemaOptions, type TUnsafe } from '@sinclair/typebox';

/** One CEL rule of `x-kubernetes-validations`, as apiextensions.k8s.io/v1 spells it. */
export interface ValidationRule {
  rule: string;
  message: string;
  /** JSONPath, relative to the node carrying the rule, of the field the error is reported on. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export function validations(...rules: ValidationRule[]): { 'x-kubernetes-validations': ValidationRule[] } {
  return { 'x-kubernetes-validations': rules };
}

/**
 * A string enum as CRDs need it (`type: string` + `enum`); TypeBox's own unions become anyOf,
 * which a structural schema does not allow.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions & { description: string }): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, [Kind]: 'StringEnum', type: 'string', enum: [...values] });
}

// So that TypeBox's Value.Check/Errors can judge objects against these schemas, as the API server
// would for everything but the CEL rules (useful in tests and to fuzz controllers).
TypeRegistry.Set<{ enum: unknown[] }>('StringEnum', (schema, value) => schema.enum.includes(value));
FormatRegistry.Set('date-time', (value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value)));

/** A transition rule: once set, the field keeps its value. Only runs on updates where both sides exist. */
export function immutable(field: string, why: string): ValidationRule {
  return { rule: 'self == oldSelf', message: `${field} is immutable: ${why}`, reason: 'FieldValueForbidden' };
}

// A Kubernetes object name (DNS-1123 subdomain), as for any object a reference points at.
const OBJECT_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** A reference by name to an object of `kind` in the same namespace. */
export function LocalObjectReference(kind: string, description: string, extra: SchemaOptions = {}) {
  return Type.Object(
    {
      name: Type.String({
        description: `Name of the ${kind} in the same namespace.`,
        minLength: 1,
        maxLength: 253,
        pattern: OBJECT_NAME_PATTERN,
      }),
    },
    { description, 'x-kubernetes-map-type': 'atomic', ...extra },
  );
}

/** A reference to one key of a Secret in the same namespace. */
export function SecretKeyReference(description: string) {
  return Type.Object(
    {
      name: Type.String({
        description: 'Name of the Secret in the same namespace.',
        minLength: 1,
        maxLength: 253,
        pattern: OBJECT_NAME_PATTERN,
      }),
      key: Type.String({
        description: 'Key inside the Secret whose value is used.',
        minLength: 1,
        maxLength: 253,
        pattern: '^[-._a-zA-Z0-9]+$',
      }),
    },
    { description, 'x-kubernetes-map-type': 'atomic' },
  );
}

/**
 * An Azure region by its programmatic name (`westeurope`, `eastus2`), the form ARM APIs take.
 * Display names ("West Europe") are refused so that every comparison is between one spelling.
 */
export function Region(description: string, extra: SchemaOptions = {}) {
  return Type.String({ description, minLength: 2, maxLength: 50, pattern: '^[a-z][a-z0-9]+$', ...extra });
}

export const OS_TYPES = ['Windows', 'Linux'] as const;
export const OS_STATES = ['Generalized', 'Specialized'] as const;
export const HYPERV_GENERATIONS = ['V1', 'V2'] as const;
export const STORAGE_ACCOUNT_TYPES = ['Standard_LRS', 'Standard_ZRS', 'Premium_LRS'] as const;

/** `x.y.z`: the only shape Azure Compute Gallery accepts for an image version name. */
// `[.]` rather than a backslash escape: the same text is then right both as a `pattern` and inside a CEL string literal.
export const VERSION_PATTERN = '^[0-9]+[.][0-9]+[.][0-9]+$';

/**
 * An image definition name in a gallery: letters, digits, `.`, `_` and `-`, starting and ending
 * with a letter or digit, at most 80 characters (Azure's rule; galleries themselves allow no `-`).
 */
export function ImageDefinitionName(description: string) {
  return Type.String({
    description,
    minLength: 1,
    maxLength: 80,
    pattern: '^[A-Za-z0-9]([-A-Za-z0-9._]{0,78}[A-Za-z0-9])?$',
  });
}

/**
 * An ARM resource id checked by a CEL regex, not `pattern`: ARM ids are case-insensitive
 * (`resourceGroups` and `resourcegroups` both occur), and CEL's RE2 takes the `(?i)` flag that
 * OpenAPI's ECMA-flavoured `pattern` cannot portably express. `typeAndName` is a regex for the
 * part after `providers/`, written with `[.]` for dots (no backslashes inside the CEL string).
 */
export function ArmResourceId(description: string, typeAndName: string, field: string, example: string) {
  return Type.String({
    description,
    minLength: 1,
    maxLength: 1024,
    ...validations(
      {
        rule: `self.matches('(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/${typeAndName}$')`,
        message: `${field} must be an ARM resource id like ${example}`,
      },
      // A `.` or `..` segment would resolve, as a URL path, to another resource than the one the scope check judged.
      { rule: "!self.matches('/[.][.]?(/|$)')", message: `${field} must not have "." or ".." segments` },
    ),
  });
}

/** A subscription id: a GUID. */
const SUBSCRIPTION_ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A resource group name, as ARM allows it: no trailing dot, so never `.` or `..`. */
const RESOURCE_GROUP = '[-a-z0-9_.()]{0,89}[-a-z0-9_()]';

/** An ARM scope a LabAccount allows: a subscription, or a resource group in one. Checked by CEL for the reasons ArmResourceId gives. */
export function ArmScope(description: string, field: string) {
  return Type.String({
    description,
    minLength: 1,
    maxLength: 256,
    ...validations({
      rule: `self.matches('(?i)^/subscriptions/${SUBSCRIPTION_ID}(/resourceGroups/${RESOURCE_GROUP})?$')`,
      message: `${field} must be an ARM scope: /subscriptions/<subscription id> or /subscriptions/<subscription id>/resourceGroups/<name>`,
    }),
  });
}

/** Replication settings; `withDefaults` is true for a LabAccount (the defaults), false for an export (which inherits them). */
export function Replication(description: string, withDefaults: boolean) {
  const inherit = withDefaults ? '' : ' Unset: the lab account\'s spec.replication value.';
  return Type.Object(
    {
      regions: Type.Optional(
        Type.Array(Region('A target region.'), {
          description:
            'Regions to replicate image versions to, as programmatic names (westeurope). Empty means every region of the ' +
            'lab account\'s geography; a region outside that geography makes the object Stalled.' + inherit,
          maxItems: 64,
          'x-kubernetes-list-type': 'set',
        }),
      ),
      replicaCount: Type.Optional(
        Type.Integer({
          description: 'Replicas per region, 1 to 10. More replicas serve more concurrent VM creations, and each costs storage.' + inherit,
          minimum: 1,
          maximum: 10,
          ...(withDefaults ? { default: 1 } : {}),
        }),
      ),
      storageAccountType: Type.Optional(
        StringEnum(STORAGE_ACCOUNT_TYPES, {
          description: 'Storage of each replica: Standard_LRS, Standard_ZRS (zone-redundant) or Premium_LRS.' + inherit,
          ...(withDefaults ? { default: 'Standard_LRS' } : {}),
        }),
      ),
    },
    { description, ...(withDefaults ? { default: {} } : {}) },
  );
}

// metav1.Condition's own validation, so a condition written by the operator is one `kubectl wait`
// and kstatus understand.
const CONDITION_TYPE_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$';
export const CONDITION_REASON_PATTERN = '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$';

/** The shape of metav1.Condition. */
export const Condition = Type.Object(
  {
    type: Type.String({
      description: 'Type of the condition in CamelCase: Ready (the summary), Reconciling and Stalled (kstatus), or a kind-specific one.',
      maxLength: 316,
      pattern: CONDITION_TYPE_PATTERN,
    }),
    status: StringEnum(['True', 'False', 'Unknown'] as const, { description: 'Status of the condition: True, False or Unknown.' }),
    observedGeneration: Type.Optional(
      Type.Integer({
        description: 'metadata.generation of the object when the condition was set; older than the current generation means stale.',
        format: 'int64',
        minimum: 0,
      }),
    ),
    lastTransitionTime: Type.String({
      description: 'When the condition last changed status (not when it was last checked).',
      format: 'date-time',
    }),
    reason: Type.String({
      description: 'Programmatic reason for the condition\'s last transition, in CamelCase (for example ReplicationInProgress).',
      minLength: 1,
      maxLength: 1024,
      pattern: CONDITION_REASON_PATTERN,
    }),
    message: Type.String({ description: 'Human-readable details of the transition; may be empty.', maxLength: 32768 }),
  },
  { description: 'One aspect of the object\'s state, in the metav1.Condition shape.' },
);

export const Conditions = Type.Array(Condition, {
  description:
    'Observations of the object\'s state, one per type. Ready summarises them; Reconciling=True while work is under way; ' +
    'Stalled=True when the operator cannot go on without a change from you.',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});

/**
 * status.observedGeneration. The schema default of -1 makes an object the operator has never
 * seen read as InProgress to kstatus (-1 never equals metadata.generation), instead of Current,
 * which is what kstatus calls an object without conditions.
 */
export const ObservedGeneration = Type.Integer({
  description: 'metadata.generation the operator last acted on; -1 until the operator has seen the object.',
  format: 'int64',
  minimum: -1,
  default: -1,
});

/** status.lastHandledReconcileAt: the annotation's value the operator last answered (Flux's field of the same name). */
export const LastHandledReconcileAt = Type.String({
  description:
    'The value of the labimages.io/requestedAt annotation the operator last reconciled the object for: equal to the annotation once a ' +
    'reconcile asked for with it has run (kubectl labimage reconcile --wait waits for that).',
  maxLength: 64,
});
