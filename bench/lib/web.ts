#!/usr/bin/env node
// The service behind the virtual IP in every benchmark: answers every request with the host's
// name. It listens on 0.0.0.0:80, so it answers on the VIP exactly while its host holds it.
// It runs for the whole benchmark, independent of the cluster daemon under test, on every
// server host; what moves is only the address. Usage: web.js NAME [PORT]
import { createServer } from 'node:http';

const [name = 'unknown', port = '80'] = process.argv.slice(2);
const body = `${name}\n`;
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length), connection: 'close' });
  res.end(body);
});
server.on('error', (err) => {
  process.stderr.write(`web ${name}: ${err.message}\n`);
  process.exit(1);
});
server.listen(Number(port), '0.0.0.0', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
