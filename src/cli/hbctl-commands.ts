// hbctl's sub-commands, in a module of their own (hbctl.ts runs when imported): its "did you
// mean" hints pick from them, and a test checks hbctl(8) documents each one.
export const HBCTL_COMMANDS: readonly string[] = ['check-config', 'status', 'standby', 'takeover', 'clear', 'help'];
