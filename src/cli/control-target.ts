// Where the classic commands find hbd: $HBD_CONTROL_SOCKET, or the default path.
import { DEFAULT_CONTROL_SOCKET } from '../control/protocol.js';

export function controlSocketPath(flag?: string): string {
  return flag ?? process.env.HBD_CONTROL_SOCKET ?? DEFAULT_CONTROL_SOCKET;
}
