import { createRequire } from 'node:module';

/**
 * @xmldom/xmldom 0.9 builds a fresh Unicode RegExp from grammar fragments (`grammar.reg(...)`) for every end tag
 * and every markup match while it parses — the single largest cost of parsing a CDA (about a third of the time).
 * The fragments are module constants and the resulting expressions carry no `g`/`y` flag (no `lastIndex` state),
 * so one compiled expression per distinct argument list is equivalent. This memoises `reg` on the identity of its
 * arguments (strings by value, RegExps by reference). Parsing results are unchanged (checked by
 * test/unit/xml/safe-xml.test.ts against the unpatched parser).
 */
type RegFn = (...args: (string | RegExp)[]) => RegExp;
interface Grammar {
  reg: RegFn;
  __lpsRegCache?: true;
}

interface Trie {
  next: Map<string | RegExp, Trie>;
  value?: RegExp;
}

export function installXmldomRegexCache(): boolean {
  let grammar: Grammar;
  try {
    grammar = createRequire(__filename)('@xmldom/xmldom/lib/grammar') as Grammar;
  } catch {
    return false; // another xmldom layout: parse uncached, still correct
  }
  if (typeof grammar.reg !== 'function') return false;
  if (grammar.__lpsRegCache) return true;
  const original = grammar.reg;
  const root: Trie = { next: new Map() };
  grammar.reg = function cachedReg(this: unknown, ...args: (string | RegExp)[]): RegExp {
    let node = root;
    for (const a of args) {
      let child = node.next.get(a);
      if (!child) node.next.set(a, (child = { next: new Map() }));
      node = child;
    }
    return (node.value ??= original.apply(this, args));
  };
  grammar.__lpsRegCache = true;
  return true;
}
