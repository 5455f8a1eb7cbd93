#!/usr/bin/env node
/** The `winrs-emulator` command: winrs.exe's syntax, spoken to a WinRM endpoint by this library. */
import { main } from './index.ts';

void main();
