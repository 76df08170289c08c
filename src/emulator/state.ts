import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredConfig } from './config.ts';
import type { Faults } from './faults.ts';
import type { Replica } from './replication.ts';

/** The mutation in flight on a resource; its provisioningState follows from it. */
export interface PendingOperation {
  id: string;
  kind: 'create' | 'update' | 'delete';
  endsAt: number;
}

export interface StoredResource {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  tags: Record<string, string>;
  /** The request's `properties`, less what ARM computes, echoed back as sent. */
  properties: Record<string, unknown>;
  operation?: PendingOperation;
}

export interface StoredImageVersion extends StoredResource {
  publishedAt: number;
  osDiskSizeGiB: number;
  dataDisks: { lun: number; sizeGiB: number }[];
  replicas: Replica[];
}

export interface StoredVirtualMachine extends StoredResource {
  vmId: string;
  osType: 'Windows' | 'Linux';
  osDiskSizeGiB: number;
  dataDisks: { lun: number; sizeGiB: number }[];
  /** The disks and NICs made with the VM (or attached to it), and whether its delete takes them along. */
  attached?: { table: 'disks' | 'networkInterfaces'; key: string; deleteWithVm: boolean }[];
}

export interface StoredResourceGroup {
  name: string;
  location: string;
  tags: Record<string, string>;
  /** A delete under way: the group and everything in it go when it ends. */
  deletingUntil?: number;
}

/** A managed disk or a NIC: made with a VM, used by it while the VM exists (`usedBy`), left or deleted after. */
export interface StoredAttachable extends StoredResource {
  /** The VM that uses it: its key, and its id as ARM shows it. */
  usedBy?: { key: string; id: string };
}

export interface StoredOperation {
  id: string;
  location: string;
  subscriptionId: string;
  startedAt: number;
  endsAt: number;
  resourceKey: string;
}

export interface EmulatorState {
  resourceGroups: Record<string, StoredResourceGroup>;
  galleries: Record<string, StoredResource>;
  images: Record<string, StoredResource>;
  versions: Record<string, StoredImageVersion>;
  virtualMachines: Record<string, StoredVirtualMachine>;
  disks: Record<string, StoredAttachable>;
  networkInterfaces: Record<string, StoredAttachable>;
  operations: Record<string, StoredOperation>;
  faults: Faults;
  /** The configuration in force, with changes made through the admin endpoint (seeds and faults are applied, not kept here). */
  config?: StoredConfig;
}

/** The tables of resources that live in resource groups. */
export const resourceTables = ['galleries', 'images', 'versions', 'virtualMachines', 'disks', 'networkInterfaces'] as const satisfies readonly (keyof EmulatorState)[];

export function emptyState(): EmulatorState {
  return { resourceGroups: {}, galleries: {}, images: {}, versions: {}, virtualMachines: {}, disks: {}, networkInterfaces: {}, operations: {}, faults: { regionFailures: [] } };
}

/**
 * The emulator's state and its file. `commit()` resolves once the state as it is now is on disk;
 * commits that arrive while a write is under way share the next write, so a burst of requests
 * costs one write, and no answer is sent before what it reports is durable.
 */
export class StateStore {
  readonly state: EmulatorState;
  private readonly file: string | undefined;
  private next: Promise<void> | undefined;
  private tail: Promise<void> = Promise.resolve();
  /** Something changed that no commit has been asked for since (an operation settled by a read). */
  private changed = false;

  private constructor(state: EmulatorState, file: string | undefined) {
    this.state = state;
    this.file = file;
  }

  static async open(file: string | undefined): Promise<StateStore> {
    if (!file) return new StateStore(emptyState(), undefined);
    await mkdir(dirname(file), { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new StateStore(text ? { ...emptyState(), ...(JSON.parse(text) as Partial<EmulatorState>) } : emptyState(), file);
  }

  /** Notes a change made while answering a read, for `commitChanges`. */
  markChanged(): void {
    this.changed = true;
  }

  /** Commits when something changed since the last commit was asked for; a read that changed nothing writes nothing. */
  commitChanges(): Promise<void> {
    return this.changed ? this.commit() : Promise.resolve();
  }

  commit(): Promise<void> {
    this.changed = false;
    const file = this.file;
    if (!file) return Promise.resolve();
    this.next ??= this.tail.then(() => {
      this.next = undefined;
      return this.write(file);
    });
    const pending = this.next;
    this.tail = pending.catch(() => undefined);
    return pending;
  }

  /** Waits for writes under way (for a clean stop). */
  async flush(): Promise<void> {
    await this.tail;
  }

  private async write(file: string): Promise<void> {
    const temporary = `${file}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(this.state));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    // rename is atomic: a reader (or a restart after SIGKILL) sees the old file or the new one.
    await rename(temporary, file);
  }
}
