/**
 * The matching engine for normalized globs. A glob is read once into tokens; the tokens give
 * both the anchored RegExp that documents the glob's meaning and a small automaton that
 * matches in time linear in the name. The automaton does the matching: V8's backtracking
 * RegExp takes about 45 ms for `a/*a*a*b` against a 255-character name and seconds with one
 * wildcard more, and glob matching runs for every image of every admission.
 */

export type Token =
  | { readonly kind: 'literal'; readonly char: string }
  /** `?`: one character other than `/`. */
  | { readonly kind: 'one' }
  /** `*`: any run of characters other than `/`. */
  | { readonly kind: 'star' }
  /** `**` inside a segment: any run of characters. */
  | { readonly kind: 'any' }
  /** `**` as a whole middle segment (after its `/`): nothing, or any run ending in `/`. */
  | { readonly kind: 'segments' }
  /** A final `/**`: nothing, or `/` and any run. */
  | { readonly kind: 'tail' };

export function tokenize(glob: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < glob.length) {
    if (glob.startsWith('/**/', i)) {
      tokens.push({ kind: 'literal', char: '/' }, { kind: 'segments' });
      i += 4;
    } else if (glob.startsWith('/**', i) && i + 3 === glob.length) {
      tokens.push({ kind: 'tail' });
      i += 3;
    } else if (glob.startsWith('**', i)) {
      tokens.push({ kind: 'any' });
      i += 2;
    } else {
      const char = glob.charAt(i);
      tokens.push(char === '*' ? { kind: 'star' } : char === '?' ? { kind: 'one' } : { kind: 'literal', char });
      i += 1;
    }
  }
  return tokens;
}

/** The anchored RegExp of the tokens; every literal is escaped, so `.` `+` `(` are literal. */
export function toRegExp(tokens: readonly Token[]): RegExp {
  const parts = tokens.map((token) => {
    switch (token.kind) {
      case 'literal':
        return /[\\^$.|?*+()[\]{}/-]/.test(token.char) ? `\\${token.char}` : token.char;
      case 'one':
        return '[^/]';
      case 'star':
        return '[^/]*';
      case 'any':
        return '.*';
      case 'segments':
        return '(?:.*/)?';
      case 'tail':
        return '(?:/.*)?';
    }
  });
  return new RegExp(`^${parts.join('')}$`);
}

// Automaton states: a character edge (a char code, NOT_SLASH or ANY_CHAR) to `next`, or a
// split into two states without consuming, or acceptance.
const NOT_SLASH = -1;
const ANY_CHAR = -2;
const SLASH = '/'.charCodeAt(0);
type State = { readonly edge: number; readonly next: number } | { readonly split: readonly [number, number] } | { readonly accept: true };

export type Automaton = readonly State[];

/** Thompson construction: each token appends a few states whose exits point at the next token. */
export function toAutomaton(tokens: readonly Token[]): Automaton {
  const states: State[] = [];
  for (const token of tokens) {
    const s = states.length;
    switch (token.kind) {
      case 'literal':
        states.push({ edge: token.char.charCodeAt(0), next: s + 1 });
        break;
      case 'one':
        states.push({ edge: NOT_SLASH, next: s + 1 });
        break;
      case 'star':
      case 'any':
        states.push({ split: [s + 1, s + 2] }, { edge: token.kind === 'star' ? NOT_SLASH : ANY_CHAR, next: s });
        break;
      case 'segments': // (?:.*/)?
        states.push({ split: [s + 1, s + 4] }, { split: [s + 2, s + 3] }, { edge: ANY_CHAR, next: s + 1 }, { edge: SLASH, next: s + 4 });
        break;
      case 'tail': // (?:/.*)?
        states.push({ split: [s + 1, s + 4] }, { edge: SLASH, next: s + 2 }, { split: [s + 3, s + 4] }, { edge: ANY_CHAR, next: s + 2 });
        break;
    }
  }
  states.push({ accept: true });
  return states;
}

/** Runs the automaton over `name`, keeping the set of live states: O(name × states). */
export function run(automaton: Automaton, name: string): boolean {
  const seen = new Int32Array(automaton.length).fill(-1);
  let current: number[] = [];
  close(automaton, 0, current, seen, 0);
  for (let i = 0; i < name.length && current.length > 0; i++) {
    const c = name.charCodeAt(i);
    const next: number[] = [];
    for (const index of current) {
      const state = automaton[index]!;
      if ('edge' in state && (state.edge === c || state.edge === ANY_CHAR || (state.edge === NOT_SLASH && c !== SLASH))) {
        close(automaton, state.next, next, seen, i + 1);
      }
    }
    current = next;
  }
  return current.some((index) => 'accept' in automaton[index]!);
}

/** Adds `index` and every state reachable from it without consuming a character. */
function close(automaton: Automaton, index: number, into: number[], seen: Int32Array, step: number): void {
  const stack = [index];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen[s] === step) continue;
    seen[s] = step;
    const state = automaton[s]!;
    if ('split' in state) stack.push(state.split[1], state.split[0]);
    else into.push(s);
  }
}
