#!/usr/bin/env node
// The demo's web service, standing in for the seed tutorial's nginx page: every request is
// answered with the host's name and its own address, e.g. "Droplet: primary, IP Address:
// 10.231.1.1". It listens on 0.0.0.0, so it also answers on the virtual IP while this host
// holds it. Usage: web.js NAME OWN-ADDRESS [PORT]
import { createServer } from 'node:http';

const [name = 'unknown', own = '?', port = '80'] = process.argv.slice(2);

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(`Droplet: ${name}, IP Address: ${own}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`web ${name}: ${err.message}\n`);
  process.exit(1);
});
server.listen(Number(port), '0.0.0.0', () => process.stdout.write(`listening on 0.0.0.0:${port}\n`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
