// hbd's command-line options, as node:util parseArgs takes them. In a module of their own (hbd.ts
// starts the daemon when imported), so tests can check hbd(8) documents every one of them.
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_CONTROL_SOCKET } from '../control/protocol.js';

export const HBD_OPTIONS = {
  foreground: { type: 'boolean', short: 'f', default: false },
  test: { type: 'boolean', short: 't', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'V', default: false },
  'log-tag': { type: 'string' },
  'config-dir': { type: 'string', default: '/etc/ha.d' },
  'resource-dir': { type: 'string' },
  'init-dir': { type: 'string' },
  node: { type: 'string' },
  'state-dir': { type: 'string', default: '/var/lib/heartbeat-ts' },
  'control-socket': { type: 'string', default: DEFAULT_CONTROL_SOCKET },
  'control-group': { type: 'string' },
  'status-group': { type: 'string' },
  'local-address': { type: 'string' },
  'pid-file': { type: 'string' },
  'http-listen': { type: 'string' },
  'http-token-file': { type: 'string' },
  'syslog-socket': { type: 'string' },
  'agent-timeout': { type: 'string' },
  witness: { type: 'boolean', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;
