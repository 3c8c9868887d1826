#!/usr/bin/env node
import { handover } from "./handover.js";
handover("takeover", process.argv.slice(2)).then((c) => { process.exitCode = c; });
