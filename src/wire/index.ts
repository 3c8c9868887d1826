// The wire layer: Heartbeat's message, its two encodings, signing, and the replay window.
export * from './message.js';
export * from './codec.js';
export * from './auth.js';
export * from './replay.js';
