// ha.cf's quorum source, ping-node and fencing directives (issue 16): what they read, the errors
// they give (file:line, what to do), and the one start-up warning of two nodes without a
// quorum source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IssueList } from '../../src/config/issues.js';
import { parseHaCf } from '../../src/config/hacf.js';
import { parseHaCfLines } from '../helpers/hacf.js';
import { fencingFor, ipfailOn, quorumSourceWarning } from '../../src/config/hacf-quorum.js';

const BASE = ['node alpha beta', 'bcast eth0', 'auto_failback on', 'logfacility daemon'];

const parse = (...lines: string[]) => parseHaCfLines([...BASE, ...lines]);

test('witness, ipfail, stonith_host, fence_agent and fence_timeout are read', () => {
  const { cf, errors, warnings } = parse('witness arbiter', 'ipfail on', 'ping 10.0.0.254', 'deadping 5', 'stonith_host * external/ssh hostlist=alpha,beta', 'fence_agent beta fence_ipmilan ip=10.0.0.12 username=admin', 'fence_timeout 30');
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, [], 'ping, deadping and stonith_host are acted on now: no "not acted on" warning');
  assert.deepEqual(cf.quorum.witness, { name: 'arbiter', line: 5 });
  assert.equal(ipfailOn(cf), true);
  assert.equal(cf.deadpingMs, 5000);
  assert.deepEqual(cf.quorum.stonith, [{ from: '*', type: 'external/ssh', params: ['hostlist=alpha,beta'], line: 9 }]);
  assert.deepEqual(cf.quorum.fenceAgents, [{ target: 'beta', agent: 'fence_ipmilan', args: [['ip', '10.0.0.12'], ['username', 'admin']], line: 10 }]);
  assert.equal(cf.quorum.fenceTimeoutMs, 30_000);
  assert.equal(fencingFor(cf, 'alpha', 'beta'), true);
});

test('the seeds turn ipfail on with a respawn line; ipfail off wins over it', () => {
  assert.equal(ipfailOn(parse('ping 10.0.0.1', 'respawn hacluster /usr/lib/heartbeat/ipfail').cf), true);
  assert.equal(ipfailOn(parse('ping 10.0.0.1', 'respawn hacluster /usr/lib/heartbeat/ipfail', 'ipfail off').cf), false);
  assert.equal(ipfailOn(parse('ping 10.0.0.1', 'respawn hacluster /usr/lib/heartbeat/ccm').cf), false);
  assert.match(parse('ipfail on').warnings.join('\n'), /5: ipfail is on but there is no ping node — add "ping ADDRESS"/);
});

test('errors name the line and what to write', () => {
  assert.match(parse('witness alpha').errors.join('\n'), /^5: witness "alpha" is also a node — .*name another host/m);
  assert.match(parse('witness a b').errors.join('\n'), /^5: witness takes one host name/m);
  assert.match(parse('ipfail maybe').errors.join('\n'), /^5: ipfail takes on or off/m);
  assert.match(parse('stonith_host *').errors.join('\n'), /^5: stonith_host takes the node that may use it/m);
  assert.match(parse('fence_agent beta rm -rf').errors.join('\n'), /^5: fence_agent: "rm" must be a fence_\* program name or an absolute path/m);
  assert.match(parse('fence_agent beta fence_apc ip').errors.join('\n'), /^5: fence_agent: "ip" is not key=value/m);
  assert.match(parse('fence_agent gamma fence_apc ip=1').errors.join('\n'), /^5: fence_agent: "gamma" is not a node of ha.cf/m);
  assert.match(parse('fence_timeout soon').errors.join('\n'), /^5: fence_timeout takes one time above 0/m);
  assert.match(parse('witness w1', 'witness w2').errors.join('\n'), /^6: a second witness line/m);
});

test('two nodes without a quorum source: one warning that names the risk and the fix; none with a witness or fencing', () => {
  const text = quorumSourceWarning(parse().cf, 'alpha');
  assert.match(text ?? '', /two nodes and no quorum source: .*split brain.*witness HOST.*hbd --witness.*stonith_host.*fence_agent/);
  assert.equal(quorumSourceWarning(parse('witness arbiter').cf, 'alpha'), null);
  assert.equal(quorumSourceWarning(parse('fence_agent beta fence_apc ip=1').cf, 'alpha'), null);
  assert.notEqual(quorumSourceWarning(parse('fence_agent alpha fence_apc ip=1').cf, 'alpha'), null, 'a device that fences only ourselves does not protect us');
  const three = new IssueList();
  assert.equal(quorumSourceWarning(parseHaCf('node a b c\nbcast eth0', 'ha.cf', three), 'a'), null, 'three nodes: a majority decides');
});
