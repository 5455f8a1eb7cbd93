/**
 * Console codepages for text a command host writes (WINRS_CODEPAGE, [MS-WSMV] 2.2.4.37).
 * 65001 is UTF-8; 437 is the OEM United States codepage (the default console codepage of an en-US Windows,
 * and what pywinrm asks for). Characters 437 cannot represent become '?', as WideCharToMultiByte's default char.
 */

/** CP437 bytes 0x80-0xFF as Unicode, in byte order. */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅ' +
  'ÉæÆôöòûùÿÖÜ¢£¥₧ƒ' +
  'áíóúñÑªº¿⌐¬½¼¡«»' +
  '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧' +
  '╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩' +
  '≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

const CP437_ENCODE = new Map<number, number>();
for (let i = 0; i < CP437_HIGH.length; i++) CP437_ENCODE.set(CP437_HIGH.charCodeAt(i), 0x80 + i);

/** Codepages the mock can encode. Others fall back to UTF-8 (documented). */
export const SUPPORTED_CODEPAGES = [437, 65001] as const;

/** Encode text the way a console program writing in `codepage` would. */
export function encodeText(text: string, codepage: number): Buffer {
  if (codepage !== 437) return Buffer.from(text, 'utf8');
  const out = Buffer.alloc(text.length);
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out[n++] = cp < 0x80 ? cp : (CP437_ENCODE.get(cp) ?? 0x3f);
  }
  return out.subarray(0, n);
}

/** Decode bytes written in `codepage` (stdin arrives as bytes in the console codepage). */
export function decodeText(bytes: Buffer, codepage: number): string {
  if (codepage !== 437) return bytes.toString('utf8');
  let s = '';
  for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return s;
}
