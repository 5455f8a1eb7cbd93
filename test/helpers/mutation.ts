/** Hostile edits of well-formed messages for property tests: flip a bit, truncate, insert a token, delete a run. */
import fc from 'fast-check';

export type MutationKind = 'flip' | 'truncate' | 'insert' | 'delete';

export interface Mutation {
  sample: number;
  pos: number;
  kind: MutationKind;
  text: string;
}

/** A mutation of one of `sampleCount` samples, inserting one of `tokens` when it inserts. */
export function mutationArb(sampleCount: number, tokens: readonly string[]): fc.Arbitrary<Mutation> {
  return fc.record({
    sample: fc.nat(sampleCount - 1),
    pos: fc.nat(),
    kind: fc.constantFrom<MutationKind>('flip', 'truncate', 'insert', 'delete'),
    text: fc.constantFrom(...tokens),
  });
}

/** Apply `m` to `s`; a delete removes `deleteLength` characters. */
export function mutate(s: string, m: Mutation, deleteLength: number): string {
  const p = m.pos % (s.length + 1);
  switch (m.kind) {
    case 'flip':
      return s.slice(0, p) + String.fromCharCode((s.charCodeAt(p) || 0) ^ 0x20) + s.slice(p + 1);
    case 'truncate':
      return s.slice(0, p);
    case 'insert':
      return s.slice(0, p) + m.text + s.slice(p);
    case 'delete':
      return s.slice(0, p) + s.slice(p + deleteLength);
  }
}
