/** Test-side re-exports so the property tests read cleanly. */

export * from '../../src/wsman/index.ts';
export { childElements as childElementsOf } from '../../src/wsman/xml.ts';
