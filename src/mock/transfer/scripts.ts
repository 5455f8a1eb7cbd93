/**
 * The transfer scripts the mock can stand in for, known by the SHA-256 of their exact text. The texts are the
 * .ps1 assets as embedded at build time (src/transfer/scripts.generated.ts, data, not the client's code), so a
 * bundled mock needs no files: a script whose text differs by one byte is not recognised and fails as an unknown
 * script would.
 */
import { createHash } from 'node:crypto';
import { SCRIPT_ASSETS } from '../../transfer/scripts.generated.ts';

export type EmulatedScript = 'upload' | 'download' | 'list' | 'cleanup';

const NAMES: readonly EmulatedScript[] = ['upload', 'download', 'list', 'cleanup'];

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function readAsset(name: string): string {
  const text = SCRIPT_ASSETS[name];
  if (text === undefined)
    throw new Error(`transfer script ${name}.ps1 is not embedded; run node scripts/build.mjs --scripts`);
  return text;
}

/**
 * A script as the client sends it: docs/transfer-protocol.md ("Scripts") says the line
 * `# @include common.ps1` is replaced by the text of common.ps1.
 */
function assetText(name: string): string {
  const text = readAsset(name);
  return name === 'bootstrap' ? text : text.replace('# @include common.ps1\n', readAsset('common'));
}

let known: { bootstrap: string; scripts: Map<string, EmulatedScript> } | undefined;

function table(): { bootstrap: string; scripts: Map<string, EmulatedScript> } {
  known ??= {
    bootstrap: sha256Hex(assetText('bootstrap')),
    scripts: new Map(NAMES.map((n) => [sha256Hex(assetText(n)), n])),
  };
  return known;
}

/** True when the -EncodedCommand text is exactly the transfer bootstrap. */
export function isTransferBootstrap(commandText: string): boolean {
  return sha256Hex(commandText) === table().bootstrap;
}

/** Which transfer script this exact text is, if any. */
export function recogniseScript(text: string): EmulatedScript | undefined {
  return table().scripts.get(sha256Hex(text));
}
