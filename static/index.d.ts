// Types of @collabedit/client (index.js). Positions and counts are
// Unicode code points, as on the wire (docs/protocol.md §2).

import type { DocClient } from './client.js';
import type { Connection } from './socket.js';

/** An operation: retain n (> 0), delete n (< 0), insert a string. */
export type Op = Array<number | string>;

/** A selection in code points; anchor = head is a caret. */
export interface Selection {
  anchor: number;
  head: number;
}

/** The server's limits the client keeps to (docs/protocol.md §10). */
export interface Limits {
  /** Largest frame in bytes (default 1 MiB). */
  maxMessageBytes: number;
  /** Largest document in code points (default 4 Mi). */
  maxDocLen: number;
  /** Most UTF-8 bytes inserted at once (default 2 MiB). */
  maxInsertBytes: number;
}

/** The package's version, equal to package.json's. */
export const VERSION: string;
/** The wire protocol version spoken (docs/protocol.md §12). */
export const PROTOCOL_VERSION: 1;
export const DEFAULT_LIMITS: Readonly<Limits>;

export interface ConnectOptions {
  /** ms between pings while open (protocol §16); 0 sends none. Default 5000. */
  heartbeatMs?: number;
  /** ms a ping may go unanswered before the connection is dropped and reopened. Default 10000. */
  heartbeatTimeoutMs?: number;
  /** ms a connection attempt may take. Default 10000. */
  openTimeout?: number;
  /** ms a connection must stay open for the next outage to start from the shortest delay. Default 10000. */
  stableMs?: number;
  /** Backoff between attempts: default min 500, max 30000, factor 2, jitter 0.5. */
  reconnect?: { min?: number; max?: number; factor?: number; jitter?: number };
  /** In a browser: drop at once when offline, retry when online or visible again. Default true. */
  watchNetwork?: boolean;
  /** The server's limits, if not its defaults. */
  limits?: Partial<Limits>;
  /** WebSocket constructor. Default globalThis.WebSocket. */
  WebSocket?: new (url: string) => WebSocket;
  /**
   * The token for a server that checks access (protocol §18): called for
   * every connection, before anything else is sent, and again when the
   * server warns that the current one expires.
   */
  getToken?: () => string | Promise<string>;
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped';
export type Status = 'connecting' | 'saving' | 'saved' | 'offline' | 'deleted' | 'closed';

export interface OpenOptions {
  /** Who you are to the others. Without it you see them but are not shown until setPresence(). */
  presence?: { name?: string; color?: string };
  /** Your session id for this document (default random). */
  clientId?: string;
  /** The server's limits, if not its defaults. */
  limits?: Partial<Limits>;
}

/** Another person in the document. */
export interface Peer {
  session: string;
  /** Display name ('Anonymous' if none). */
  name: string;
  /** A safe hex colour: theirs, or one picked for them. */
  color: string;
  /** '#fff' or '#000', whichever reads on color. */
  ink: string;
  /** Their selection on the local text, or null if unknown. */
  selection: Selection | null;
  /** When their last presence update arrived (ms since the epoch). */
  seenAt: number;
}

export interface ChangeEvent {
  /** Turns the previous text into text. */
  op: Op;
  /** The text after the change. */
  text: string;
  version: number;
  /** Your own edit (edit(), insert(), a binding). */
  local: boolean;
  /** Someone else's op, a snapshot rebase or an undone refused edit. */
  remote: boolean;
  /** The text was rebased onto a snapshot. */
  snapshot?: boolean;
  /** A refused edit of yours was undone. */
  undo?: boolean;
  /** The origin given to edit() (bindings skip their own). */
  origin: unknown;
  /** The op's id and its author's session, for remote ops. */
  id?: string;
  author?: string;
}

/** An error with the protocol's code (docs/protocol.md §8), e.g. too_large. */
export interface CollabError extends Error {
  code: string;
  id?: string;
  doc?: string;
  /** Refused by the client before sending (over its limits). */
  local?: boolean;
}

export interface DocumentEvents {
  change: (ev: ChangeEvent) => void;
  presence: (peers: Peer[]) => void;
  status: (status: Status) => void;
  version: (version: number) => void;
  load: (text: string) => void;
  error: (err: CollabError) => void;
  /** The document was renamed or deleted (protocol §19). */
  lifecycle: (ev: { kind: 'rename' | 'delete'; title?: string; version: number }) => void;
}

export interface ConnectionEvents {
  state: (state: ConnectionState) => void;
}

declare class Emitter<E extends { [K in keyof E]: (...args: any[]) => void }> {
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(type: K, fn: E[K]): () => void;
  off<K extends keyof E>(type: K, fn: E[K]): void;
  once<K extends keyof E>(type: K, fn: E[K]): () => void;
}

/** Connects (one WebSocket, any number of documents). url: ws(s)://, http(s):// or a path like '/ws'. */
export function connect(url: string, opts?: ConnectOptions): CollabConnection;

export class CollabConnection extends Emitter<ConnectionEvents> {
  constructor(url: string, opts?: ConnectOptions);
  readonly url: string;
  readonly documents: Map<string, CollabDocument>;
  /** The underlying self-reconnecting socket (socket.js). */
  readonly socket: Connection;
  readonly state: ConnectionState;
  /** When the next attempt starts (ms since the epoch), in state 'waiting'. */
  readonly retryAt: number;
  start(): void;
  retryNow(): void;
  /** Opens a document; throws if it is already open on this connection. */
  open(id: string, opts?: OpenOptions): CollabDocument;
  /** Closes every document and the socket, for good. */
  close(): void;
}

export interface TextareaOptions {
  /** An edit could not be applied (default: the document's 'error' event). */
  onError?: (err: CollabError) => void;
  /** The textarea's text changed (redraw what depends on it). */
  onRender?: () => void;
  /** Send the selection as presence while focused. Default true. */
  presence?: boolean;
  /** Write remote edits later (e.g. fn => setTimeout(fn, 50)) to batch them. */
  defer?: (fn: () => void) => void;
}

export interface TextareaHandle {
  binding: TextareaBinding;
  /** The textarea's selection in code points on the document's text. */
  selection(): Selection;
  destroy(): void;
}

export class CollabDocument extends Emitter<DocumentEvents> {
  readonly id: string;
  readonly connection: CollabConnection;
  /** The underlying state machine (client.js). */
  readonly client: DocClient;
  readonly text: string;
  readonly version: number;
  readonly loaded: boolean;
  readonly pending: boolean;
  readonly closed: boolean;
  readonly status: Status;
  /** Your session id (others see it as Peer.session). */
  readonly session: string;
  readonly peers: Peer[];
  whenLoaded(): Promise<string>;
  whenSaved(): Promise<void>;
  edit(op: Op, opts?: { origin?: unknown }): void;
  insert(pos: number, text: string, opts?: { origin?: unknown }): void;
  delete(pos: number, count: number, opts?: { origin?: unknown }): void;
  replace(pos: number, count: number, text: string, opts?: { origin?: unknown }): void;
  setText(text: string, opts?: { origin?: unknown }): void;
  setPresence(p?: { name?: string; color?: string; selection?: Selection | null }): void;
  setSelection(sel: Selection | null): void;
  bindTextarea(textarea: HTMLTextAreaElement, opts?: TextareaOptions): TextareaHandle;
  close(): void;
}

export class TextareaBinding {
  constructor(opts: {
    textarea: HTMLTextAreaElement;
    client: DocClient;
    onRender?: () => void;
    onSelection?: () => void;
    onError?: (err: Error) => void;
    defer?: ((fn: () => void) => void) | null;
  });
  readonly composing: boolean;
  readonly view: string;
  remote(op: Op): void;
  selection(): Selection;
  undoEdit(): void;
  redoEdit(): void;
}

export { DocClient } from './client.js';
export { Connection } from './socket.js';

export class Backoff {
  constructor(opts?: { min?: number; max?: number; factor?: number; jitter?: number; random?: () => number });
  attempt: number;
  next(): number;
  reset(): void;
}

export class OpError extends Error {}
export function apply(text: string, op: Op): string;
export function compose(a: Op, b: Op): Op;
export function transform(a: Op, b: Op): [Op, Op];
export function transformIndex(pos: number, op: Op, ownInsertsFirst?: boolean): number;
export function transformSelection(sel: Selection, op: Op): Selection;
export function fromPatch(pos: number, del: number, ins: string): Op;
export function isNoop(op: Op): boolean;
export function normalize(op: Op): Op;
export function diff(a: string, b: string): Op;
export function invert(text: string, op: Op): Op;
export function codePointLength(s: string): number;
export function utf16ToCodePoint(s: string, i: number): number;
export function codePointToUtf16(s: string, cp: number): number;
export function safeColor(color: unknown, key: string): string;
export function inkFor(color: string): string;
export function colorFor(key: string): string;
export function randomId(n?: number, random?: () => number): string;
