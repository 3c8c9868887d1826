// What the in-process HttpApi tests share: a config dir for a two-node cluster, a view with
// the core attached (so /status and /events answer), a logger that keeps its lines, and a
// one-shot HTTP request that can choose its source address on the loopback network.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/types.js';
import * as Node from '../../src/core/node.js';
import type { Logger } from '../../src/lib/logger.js';
import { ClusterView } from '../../src/status/cluster-view.js';

export function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level}: ${msg}`);
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), crit: at('crit'), debug: at('debug'), debugEnabled: () => false };
}

/** Writes ha.cf (plus `hacfExtra` lines), authkeys, haresources and a resource script into `dir` and loads them as node alpha. */
export function writeConfig(dir: string, hacfExtra = ''): ClusterConfig {
  mkdirSync(join(dir, 'resource.d'));
  writeFileSync(join(dir, 'ha.cf'), `node alpha beta\nkeepalive 1\ndeadtime 5\nucast lo 127.0.0.1\nudpport 30999\n${hacfExtra}`);
  writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 sha1 x\n');
  chmodSync(join(dir, 'authkeys'), 0o600);
  writeFileSync(join(dir, 'resource.d', 'svc'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(dir, 'resource.d', 'svc'), 0o755);
  writeFileSync(join(dir, 'haresources'), 'alpha svc\n');
  const r = loadConfig({ configDir: dir, nodeName: 'alpha', roots: { initD: join(dir, 'init.d') } });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.config;
}

/** Attaches a freshly started core to the view: from then on /status answers 200. */
export function attachCore(view: ClusterView, config: ClusterConfig): void {
  const now = performance.now();
  const st = Node.initNode({ me: 'alpha', nodes: ['alpha', 'beta'], linkNames: ['lo'], timers: { keepaliveMs: 1000, warntimeMs: 2000, deadtimeMs: 5000, initdeadMs: 10000 }, groups: [{ id: 'g', preferredNode: 'alpha', resources: ['svc'] }], autoFailback: 'on', digest: config.digest }, now);
  view.attach(st, now);
}

export interface CallOptions {
  headers?: Record<string, string>;
  body?: string;
  /** The client's source address, e.g. 127.0.0.2 to be another client than 127.0.0.1. */
  localAddress?: string;
}

/** One request on its own connection; a JSON body is parsed into `json` (null otherwise). */
export function call(port: number, method: string, path: string, o: CallOptions = {}): Promise<{ status: number; json: any; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: o.headers ?? {}, localAddress: o.localAddress, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON (metrics) */
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}
