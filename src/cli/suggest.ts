// "Did you mean ...?" is written once, in lib/ (config/ suggests OCF parameter names too).
export { closest, editDistance } from '../lib/suggest.js';
