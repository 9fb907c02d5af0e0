// Types of socket.js.
export class Connection {
  constructor(opts: {
    url: string;
    onOpen?: () => void;
    onMessage?: (msg: any) => void;
    onClose?: (info: { code: number; reason: string }) => void;
    onState?: (state: string) => void;
    openTimeout?: number;
    stableMs?: number;
    heartbeatMs?: number;
    heartbeatTimeoutMs?: number;
    getToken?: () => string | Promise<string>;
    WebSocket?: new (url: string) => WebSocket;
  });
  readonly url: string;
  readonly state: 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped';
  retryAt: number;
  lastMessageAt: number;
  attempts: number;
  heartbeatDrops: number;
  /**
   * Who the server says this connection acts as (protocol §18), or null.
   * guest: a share link's visitor, whose presence name is its own, shown
   * marked as a guest's ("Ann (guest)").
   */
  identity: { sub: string; name: string; exp?: number; guest: boolean } | null;
  /** The last close code and reason, or null. */
  lastClose: { code: number; reason: string } | null;
  setHeartbeat(intervalMs: number, timeoutMs: number): void;
  start(): void;
  stop(): void;
  send(msg: object): boolean;
  retryNow(): void;
  drop(reason?: string): void;
}
