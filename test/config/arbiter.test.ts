// ha.cf's etcd arbiter directives (issue 20): what they read, their defaults, and the errors
// they give (file:line, what to do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHaCfLines } from '../helpers/hacf.js';
import { quorumSourceWarning } from '../../src/config/hacf-quorum.js';

const BASE = ['node alpha beta', 'bcast eth0', 'auto_failback on', 'logfacility daemon'];

const parse = (...lines: string[]) => parseHaCfLines([...BASE, ...lines]);

test('arbiter etcd and its settings are read', () => {
  const { cf, errors, warnings } = parse('arbiter etcd', 'arbiter_endpoints https://10.0.0.1:2379,https://10.0.0.2:2379 https://[fd00::3]:2379', 'arbiter_tls_ca /etc/ha.d/ca.pem', 'arbiter_tls_cert /etc/ha.d/c.pem', 'arbiter_tls_key /etc/ha.d/k.pem', 'arbiter_prefix /hb/web/', 'arbiter_ttl 6');
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, []);
  assert.deepEqual(cf.arbiter, {
    kind: 'etcd',
    line: 5,
    endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379', 'https://[fd00::3]:2379'],
    tls: { ca: '/etc/ha.d/ca.pem', cert: '/etc/ha.d/c.pem', key: '/etc/ha.d/k.pem' },
    prefix: '/hb/web/',
    ttlMs: 6000,
  });
});

test('defaults: a local etcd, /heartbeat-ts/, a 10 s lease; no arbiter without the line', () => {
  assert.deepEqual(parse('arbiter etcd').cf.arbiter, { kind: 'etcd', line: 5, endpoints: ['http://127.0.0.1:2379'], tls: { ca: null, cert: null, key: null }, prefix: '/heartbeat-ts/', ttlMs: 10_000 });
  assert.equal(parse().cf.arbiter, null);
});

test('errors name the line and what to write', () => {
  assert.match(parse('arbiter zookeeper').errors.join('\n'), /^5: arbiter takes one word, etcd — write "arbiter etcd"/m);
  assert.match(parse('arbiter_ttl 10').errors.join('\n'), /^5: an arbiter_\* line without "arbiter etcd" — add "arbiter etcd"/m);
  assert.match(parse('arbiter etcd', 'arbiter_endpoints 10.0.0.1:2379').errors.join('\n'), /^6: arbiter_endpoints: "10.0.0.1:2379" is not an etcd client URL — write http:\/\/HOST:PORT/m);
  assert.match(parse('arbiter etcd', 'arbiter_ttl 1.5').errors.join('\n'), /^6: arbiter_ttl takes whole seconds, at least 2/m);
  assert.match(parse('arbiter etcd', 'arbiter_ttl 1').errors.join('\n'), /^6: arbiter_ttl takes whole seconds, at least 2/m);
  assert.match(parse('arbiter etcd', 'arbiter_prefix hb').errors.join('\n'), /^6: arbiter_prefix takes one etcd key prefix that starts and ends with \//m);
  assert.match(parse('arbiter etcd', 'arbiter_tls_ca ca.pem').errors.join('\n'), /^6: arbiter_tls_ca takes one absolute path/m);
  assert.match(parse('arbiter etcd', 'arbiter_tls_cert /c.pem').errors.join('\n'), /^6: arbiter_tls_cert and arbiter_tls_key go together/m);
  assert.match(parse('arbiter etcd', 'arbiter_tls_ca /ca.pem').warnings.join('\n'), /^5: arbiter TLS files are given but an endpoint is http:\/\//m);
});

test('two nodes under the arbiter: no split-brain warning (etcd decides, no witness needed)', () => {
  assert.notEqual(quorumSourceWarning(parse().cf, 'alpha'), null);
  assert.equal(quorumSourceWarning(parse('arbiter etcd').cf, 'alpha'), null);
});
