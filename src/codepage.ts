/**
 * Decoding (and, for the mock, encoding) of console code pages WinRS uses: 65001 (UTF-8), 437 (OEM US),
 * 850 (OEM Western Europe) and the ANSI code pages WHATWG TextDecoder knows (1250-1258).
 * 437 and 850 are not WHATWG encodings, so their upper halves are tables here.
 */
import { InvalidArgumentError } from './errors.ts';

// Upper half (0x80-0xFF) of code page 437, as Unicode characters.
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
// Upper half of code page 850.
const CP850_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u00ad±‗¾¶§÷¸°¨·¹³²■\u00a0';

const OEM_TABLES: Readonly<Record<number, string>> = { 437: CP437_HIGH, 850: CP850_HIGH };

/** Code pages this library can decode. */
export function isSupportedCodepage(cp: number): boolean {
  return cp === 65001 || cp in OEM_TABLES || (cp >= 1250 && cp <= 1258);
}

export function checkCodepage(cp: number): number {
  if (!Number.isInteger(cp) || !isSupportedCodepage(cp)) {
    throw new InvalidArgumentError(`Code page ${cp} is not supported`, {
      argument: 'codepage',
      remedy: 'use 65001 (UTF-8, the default), 437, 850 or 1250-1258',
    });
  }
  return cp;
}

export function decodeCodepage(bytes: Uint8Array, cp: number): string {
  if (cp === 65001) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const table = OEM_TABLES[cp];
  if (table) {
    let s = '';
    for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : table[b - 0x80];
    return s;
  }
  return new TextDecoder(`windows-${cp}`).decode(bytes);
}

/** Encode text into an OEM or UTF-8 code page; characters the page lacks become '?' as Windows does. */
export function encodeCodepage(text: string, cp: number): Buffer {
  if (cp === 65001) return Buffer.from(text, 'utf8');
  const table = OEM_TABLES[cp];
  if (!table) {
    throw new InvalidArgumentError(`Encoding to code page ${cp} is not supported`, { argument: 'codepage' });
  }
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else {
      const i = table.indexOf(ch);
      out.push(i >= 0 ? 0x80 + i : 0x3f);
    }
  }
  return Buffer.from(out);
}
