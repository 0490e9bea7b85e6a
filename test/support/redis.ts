import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './net.js';
import { missingProgram, which } from './programs.js';

export interface RedisServer {
  url: string;
  stop: () => Promise<void>;
}

/** A real redis-server on a free loopback port, no persistence; null (skip) when missing outside CI. */
export async function startRedis(options: { port?: number } = {}): Promise<RedisServer | { skip: string }> {
  const reason = missingProgram(() => (which('redis-server') ? null : 'redis-server (Debian: apt-get install redis-server)'));
  if (reason) return { skip: reason };
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
