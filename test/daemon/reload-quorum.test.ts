// A reload (SIGHUP) that changes ping nodes, ipfail or fencing (daemon/reload.ts): hbd starts its
// pingers and fence devices, and the core's view of the ping nodes, at start; such a change is
// refused whole with the reason, never half applied (pinging the old addresses while saying
// "changed"). Moving a line or changing a comment is no change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHaCfLines } from '../helpers/hacf.js';
import { shellChanges, shellRefusals } from '../../src/daemon/reload.js';
import type { ClusterConfig } from '../../src/config/types.js';

const BASE = ['node alpha beta', 'bcast eth0', 'auto_failback on', 'ping 10.0.0.254', 'deadping 5', 'ipfail on', 'fence_agent beta fence_ipmilan ip=10.0.0.12'];
const NO_LINKS = { kept: [{ key: 'bcast eth0' }], added: [], removed: [] } as unknown as Parameters<typeof shellRefusals>[2];

function config(lines: string[]): ClusterConfig {
  const { cf, errors } = parseHaCfLines(lines);
  assert.deepEqual(errors, []);
  return { ha: cf, partDigests: { authkeys: 'a' } } as unknown as ClusterConfig;
}

const refusals = (next: string[]) => shellRefusals(config(BASE), config(next), NO_LINKS, false);

test('changing ping nodes, deadping, ipfail or fencing is refused with the reason and the way to apply it', () => {
  const cases: [string[], RegExp][] = [
    [BASE.map((l) => (l.startsWith('ping ') ? 'ping 10.0.0.253' : l)), /ping nodes and fencing changed \(ping 10\.0\.0\.254 -> 10\.0\.0\.253\).*restart hbd to apply it/],
    [BASE.map((l) => (l.startsWith('deadping') ? 'deadping 9' : l)), /deadping 5000 ms -> 9000 ms/],
    [BASE.filter((l) => !l.startsWith('ipfail')), /ipfail on -> off/],
    [BASE.map((l) => (l.startsWith('fence_agent') ? 'fence_agent beta fence_ipmilan ip=10.0.0.13' : l)), /fence_agent/],
    [[...BASE, 'stonith_host * external/ssh hostlist=alpha,beta'], /stonith_host/],
  ];
  for (const [next, reason] of cases) {
    const out = refusals(next);
    assert.equal(out.length, 1, `one refusal for ${next.join('; ')}: ${JSON.stringify(out)}`);
    assert.match(out[0]!, reason);
  }
});

test('the same ping and fencing lines, moved or with a comment added: no refusal, and nothing claimed changed', () => {
  const moved = ['# the routers', BASE[3]!, ...BASE.filter((_, i) => i !== 3)];
  assert.deepEqual(refusals(moved), []);
  assert.deepEqual(shellChanges(config(BASE), config(moved), NO_LINKS), []);
});

test('without ping nodes deadping means nothing: a deadtime change (deadping follows it by default) is no ping change', () => {
  const plain = ['node alpha beta', 'bcast eth0', 'auto_failback on', 'keepalive 100ms', 'deadtime 1'];
  const out = shellRefusals(config(plain), config(plain.map((l) => (l === 'deadtime 1' ? 'deadtime 3' : l))), NO_LINKS, false);
  assert.deepEqual(out, []);
});
