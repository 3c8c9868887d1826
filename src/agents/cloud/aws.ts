// AWS EC2: placeholder until the SDK-based provider lands (see the next commit).
import { CloudError } from './http.js';
import type { CloudIpProvider, ProviderContext } from './provider.js';

export class Aws implements CloudIpProvider {
  readonly machineWord = 'instance';
  constructor(private readonly c: ProviderContext) {}
  whoAmI(): Promise<string> {
    return Promise.reject(new CloudError('bad_answer', `${this.c.spec.kind} is not available in this build yet`));
  }
  holder(): Promise<string | null> {
    return this.whoAmI();
  }
  assign(): Promise<void> {
    return this.whoAmI().then(() => undefined);
  }
}
