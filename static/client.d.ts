// Types of the parts of client.js that index.d.ts names.
import type { Op, Selection, Limits } from './index.js';

export class DocClient {
  constructor(opts: {
    doc: string;
    clientId: string;
    send: (msg: object) => void;
    onChange?: (ev: { op: Op; remote: boolean; text: string; version: number; id?: string; author?: string; snapshot?: boolean; undo?: boolean }) => void;
    onStatus?: (status: string) => void;
    onPresence?: (peers: Map<string, object>) => void;
    onVersion?: (version: number) => void;
    onError?: (err: Error) => void;
    connected?: boolean;
    limits?: Partial<Limits>;
    /** Least ms between two new ops; edits made sooner are composed into the next. Default 50; 0 sends as soon as the previous op is acked. */
    minSendIntervalMs?: number;
    /** Our role in the document changed (protocol §18). */
    onAccess?: (role: 'read' | 'write' | 'owner') => void;
    /** The document was renamed or deleted (protocol §19). */
    onLifecycle?: (ev: { kind: 'rename' | 'delete'; title?: string; version: number }) => void;
  });
  /** The document was deleted (§19): the client stopped for good; status is 'deleted'. */
  readonly deleted: boolean;
  /** Loaded, not deleted, and not read-only: local edits can be made. */
  readonly writable: boolean;
  /** Our role in the document when the server checks access (§18), else null. */
  role: 'read' | 'write' | 'owner' | null;
  readonly doc: string;
  readonly clientId: string;
  limits: Limits;
  readonly text: string;
  readonly version: number;
  readonly loaded: boolean;
  readonly pending: boolean;
  readonly confirmed: string;
  readonly status: string;
  peers: Map<string, { session: string; name?: string; color?: string; selection?: Selection | null; version?: number; seenAt: number }>;
  open(): void;
  close(): void;
  connected(): void;
  disconnected(): void;
  edit(op: Op): void;
  setPresence(p?: { name?: string; color?: string; selection?: Selection | null }): void;
  peerSelection(session: string): Selection | null;
  receive(msg: object): void;
}
