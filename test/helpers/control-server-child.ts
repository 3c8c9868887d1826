#!/usr/bin/env node
// A ControlServer alone in a process, so a test can watch that process's memory while a
// client misbehaves. argv: SOCKET-PATH REPLY-BYTES (each reply carries that much padding,
// like a status snapshot). Prints "listening" once clients may connect; SIGTERM closes it.
import { ControlServer } from '../../src/control/server.js';

const [path, replyBytes] = process.argv.slice(2);
if (!path) throw new Error('usage: control-server-child.js SOCKET-PATH [REPLY-BYTES]');
const pad = 'x'.repeat(Number(replyBytes ?? 0));
const server = new ControlServer(path, (req) => ({ got: req.cmd, pad }));
await server.listen();
process.stdout.write('listening\n');
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
