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
    WebSocket?: new (url: string) => WebSocket;
  });
  readonly url: string;
  readonly state: 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped';
  retryAt: number;
  lastMessageAt: number;
  attempts: number;
  heartbeatDrops: number;
  setHeartbeat(intervalMs: number, timeoutMs: number): void;
  start(): void;
  stop(): void;
  send(msg: object): boolean;
  retryNow(): void;
  drop(reason?: string): void;
}
