import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * How an outage looks to clients: `refuse` resets every connection (a process down, fast
 * errors); `blackhole` keeps connections open and silent (a network partition: only client
 * timeouts notice; connections silenced by it stay silent after `resume()`).
 */
export type OutageMode = 'refuse' | 'blackhole';

/** A loopback TCP proxy to one port that a test can cut off (an outage) and restore. */
export interface TcpProxy {
  /** The port clients connect to (127.0.0.1). */
  port: number;
  /** Connections accepted since start (so a test can check traffic really goes through it). */
  connections(): number;
  /** Starts an outage until `resume()`. */
  pause(mode?: OutageMode): void;
  /** Ends the outage: new connections are forwarded again. */
  resume(): void;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port forwarding to `targetHost`:`targetPort`. */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const open = new Set<Socket>();
  /** Sockets whose traffic is dropped (blackholed), kept open until close(). */
  const silenced = new WeakSet<Socket>();
  let outage: OutageMode | undefined;
  let accepted = 0;
  const track = (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  };
  const server: Server = createServer((client) => {
    accepted += 1;
    if (outage === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    track(client);
    client.on('error', () => client.destroy());
    if (outage === 'blackhole') {
      silenced.add(client);
      client.resume();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop).on('close', () => {
      if (!silenced.has(client)) client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.on('data', (d: Buffer) => {
      if (!silenced.has(client)) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!silenced.has(client)) client.write(d);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp proxy: no port');
  return {
    port: address.port,
    connections: () => accepted,
    pause(mode: OutageMode = 'refuse') {
      outage = mode;
      for (const s of open) {
        if (mode === 'refuse') s.resetAndDestroy();
        else silenced.add(s);
      }
    },
    resume() {
      outage = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        open.clear();
        server.close(() => resolve());
      }),
  };
}
