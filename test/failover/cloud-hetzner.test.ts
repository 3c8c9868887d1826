// The first seed on Hetzner Cloud: `primary HetznerFloatingIP::FIP` in haresources (the
// floating IP named by its address, looked up through the API), real hbd on primary and
// secondary, each with the floating IP configured on lo as Hetzner's documentation has it, the
// Hetzner emulator and a router that routes the floating IP to the server it is assigned to
// (test/helpers/cloud-cluster.ts), and a client behind that router. The primary's hbd is killed
// (and, separately, the primary is powered off): the emulator records the assignment to
// secondary and the client's answers follow; with auto_failback on it goes back.
import { netnsSkip } from '../helpers/netns.js';
import { FIP } from '../helpers/cloud-cluster.js';
import { floatingIpFailoverTests } from '../helpers/cloud-failover.js';

const skip = await netnsSkip();
const TOKEN = 'hcloud-Zq3R8kX2vB7nM4pL9sT1wY6uE0aJ5dF8gH2jK4lP7oI3qW9e';
const METRICS = 'http://127.0.0.1:8694/metrics';

const options = {
  provider: 'hetzner' as const,
  subnet: '10.231.42',
  clientSubnet: '10.232.42',
  resource: (api: string) => `HetznerFloatingIP::${FIP}::api=${api}`,
  tokenFile: 'hetzner.token',
  fipId: 4711,
  fipOnServers: true,
  token: TOKEN,
  extraHaCf: 'http_listen 127.0.0.1:8694',
};

floatingIpFailoverTests({ agent: 'HetznerFloatingIP', address: 'floating IP', machine: 'server', options, metricsUrl: METRICS, skip });
