// `hbd --agent-timeout start=60,stop=60,status=20`: how long a resource agent's call may run
// before hbd kills its process group and counts the call failed. Heartbeat has no such knob
// (its ResourceManager waits forever); a hung script there blocks every takeover.
import { parseDuration } from '../config/duration.js';

export type AgentTimeouts = { start: number; stop: number; status: number };

const ACTIONS = ['start', 'stop', 'status'] as const;

/** Parses ACTION=DURATION[,ACTION=DURATION...] over `defaults`; throws with what is wrong. */
export function parseAgentTimeouts(text: string, defaults: AgentTimeouts): AgentTimeouts {
  const out = { ...defaults };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [action, value, ...rest] = part.split('=');
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number]) || value === undefined || rest.length) {
      throw new Error(`--agent-timeout: "${part}" is not ACTION=DURATION with ACTION one of ${ACTIONS.join(', ')} (e.g. start=60,stop=60,status=20)`);
    }
    const ms = parseDuration(value);
    if (ms === null || ms <= 0) throw new Error(`--agent-timeout: "${value}" for ${action} is not a positive duration (seconds, or with ms/s)`);
    out[action as (typeof ACTIONS)[number]] = ms;
  }
  return out;
}
