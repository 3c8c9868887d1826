// Which Host headers the HTTP API answers (the DNS-rebinding defence), without a server.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { HostPolicy } from '../../src/control/http-host.js';

it('HostPolicy: which Host headers name the server, for loopback, wildcard, IPv6 and other listen addresses', () => {
  const check = (p: HostPolicy, yes: (string | undefined)[], no: string[]) => {
    for (const h of yes) assert.equal(p.allows(h), true, `should allow ${h}`);
    for (const h of no) assert.equal(p.allows(h), false, `should refuse ${h}`);
  };
  const loop = new HostPolicy({ listenHost: '127.0.0.1', boundAddress: '127.0.0.1', allowedHosts: ['hbd.example.com'] });
  check(
    loop,
    [undefined, '127.0.0.1', '127.0.0.1:8694', 'localhost', 'LOCALHOST:1', 'localhost.', 'hbd.example.com', 'HBD.EXAMPLE.COM.:80'],
    ['evil.example', 'evil.example:8694', '127.0.0.1.evil.example', 'hbd.example.com.evil.example', 'example.com', '10.0.0.1', '127.0.0.2', '[::1]:8694',
      '127.1', '0x7f.0.0.1', '2130706433', '127.0.0.1.', '', ' ', '127.0.0.1:80:80', '127.0.0.1:123456', 'evil@127.0.0.1', '[::1', 'a b', '*.example.com', 'localhost:http'],
  );
  const v6 = new HostPolicy({ listenHost: '::1', boundAddress: '::1', allowedHosts: [] });
  check(v6, ['[::1]:8694', '[::1]', '[0:0:0:0:0:0:0:1]:8694', 'localhost:8694'], ['::1', '::1:8694', '127.0.0.1', '[::2]', '[::1]x']);
  const any = new HostPolicy({ listenHost: '0.0.0.0', boundAddress: '0.0.0.0', allowedHosts: [] });
  check(any, ['10.1.2.3:8694', '127.0.0.1', '192.168.0.7', 'localhost', '[fe80::1]:8694'], ['evil.example', 'hbd.example.com', '10.1.2', '10.1.2.3.nip.io']);
  const lan = new HostPolicy({ listenHost: '10.0.0.5', boundAddress: '10.0.0.5', allowedHosts: [] });
  check(lan, ['10.0.0.5:8694'], ['localhost', 'localhost:8694', '127.0.0.1', '10.0.0.6']);
  const named = new HostPolicy({ listenHost: 'localhost', boundAddress: '127.0.0.1', allowedHosts: [] });
  check(named, ['localhost:8694', '127.0.0.1:8694'], ['evil.example']);
});
