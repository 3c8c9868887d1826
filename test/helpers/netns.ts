// Network-namespace tests build their LAN with src/lib/netns.ts; this adds the test rule on
// top: without root or iproute2 they skip with a printed reason, except under CI=true.
import { netnsUnavailableReason } from '../../src/lib/netns.js';

/**
 * Skip reason for a test that needs namespaces; under CI=true a missing capability is a
 * failure, not a skip (the project's rule), so this throws there.
 */
export async function netnsSkip(): Promise<string | false> {
  const reason = await netnsUnavailableReason();
  if (!reason) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true but network namespace tests cannot run: ${reason}`);
  console.log(`# skipped: ${reason}`);
  return reason;
}
