// Child process of test/unit/console-redaction.test.ts: installs the composition root's console
// redaction, then lets @polkadot print what it prints when a socket drops during a call.
import { WsProvider } from '@polkadot/api';
import { logger } from '@polkadot/util';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { redactConsole } from '../../src/observability/console.js';

redactConsole();
// A WebSocket endpoint that accepts, never answers, and drops the socket mid-call.
const server = http.createServer();
server.on('upgrade', (req, socket) => {
  const accept = createHash('sha1')
    .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  setTimeout(() => socket.destroy(), 200);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const provider = new WsProvider(`ws://127.0.0.1:${port}/SECRETPATH?key=SECRETKEY`, 500, {}, 5_000);
provider.on('error', () => undefined);
await provider.send('chain_getHeader', []).catch(() => undefined);
await new Promise((r) => setTimeout(r, 1_200));
await provider.disconnect();
logger('api-ws').error(`disconnected from wss://user:SECRETPASS@node.example/SECRETPATH2?key=SECRETKEY2: 1006:: Abnormal Closure`);
console.warn('key', `0x${'ab'.repeat(32)}`);
server.close();
process.exit(0);
