import { connect, createServer, type Server, type Socket } from 'node:net';

/** A loopback TCP proxy to one port that a test can cut off (an outage) and restore. */
export interface TcpProxy {
  /** The port clients connect to (127.0.0.1). */
  port: number;
  /** Connections accepted since start (so a test can check traffic really goes through it). */
  connections(): number;
  /** Starts an outage: destroys every open connection and resets new ones until `resume()`. */
  pause(): void;
  /** Ends the outage: new connections are forwarded again. */
  resume(): void;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port forwarding to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let paused = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted += 1;
    if (paused) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
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
    pause() {
      paused = true;
      for (const s of open) s.resetAndDestroy();
      open.clear();
    },
    resume() {
      paused = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        open.clear();
        server.close(() => resolve());
      }),
  };
}
