import { DOMParser, XMLSerializer, type Document } from '@xmldom/xmldom';
import { AppError } from '../core/errors';
import { hasDtdMarkup, parseXmlFast, parseXmlLightFast } from './fast-parse';
import { fastParserMatchesXmldom } from './self-check';
import { installXmldomRegexCache } from './xmldom-regex-cache';

// xmldom's own parser still serves the fallback below and libraries parsing through it (xadesjs).
installXmldomRegexCache();

/**
 * The only way the project parses XML. Whatever the input (CDA, METADATA.XML, SOAP, SAML, XAdES):
 * - no DTD at all: a DOCTYPE is refused before parsing, so no entity expansion (billion laughs) and no
 *   external entity or DTD fetch can happen;
 * - a size cap;
 * - malformed XML is an error, not a partial tree.
 * The tree is an @xmldom/xmldom Document built by our strict parser (`fast-parse.ts`, several times faster than
 * xmldom's and stricter); should the installed xmldom ever lay its nodes out differently from what that parser
 * reproduces (checked once at load), xmldom's own DOMParser is used instead.
 */
export const MAX_XML_BYTES = 64 * 1024 * 1024;

export class XmlError extends AppError {
  constructor(detail: string) {
    super('XML_INVALID', "Le document XML reçu est invalide ou dangereux et n'a pas été lu.", detail);
  }
}

let fast: boolean | undefined;
/** Whether `parseXml` uses the fast parser (false only if the installed xmldom failed the load-time check). */
export function usesFastParser(): boolean {
  return (fast ??= fastParserMatchesXmldom());
}

export function parseXml(input: string | Uint8Array, what = 'XML'): Document {
  return parseChecked(input, what, parseXmlFast);
}

/**
 * The same checks and the same grammar, into a light read-only tree (`light-dom.ts`) for documents that are only
 * read — the CDA and ebRIM readers: one node class, so the readers stay monomorphic. It offers the DOM subset those
 * readers use, typed as a Document for them; never serialise, sign or edit it (`parseXml` is for that). Where the
 * fast parser is not in use (see `usesFastParser`), this is xmldom's tree.
 */
export function parseXmlForReading(input: string | Uint8Array, what = 'XML'): Document {
  return parseChecked(input, what, (text) => parseXmlLightFast(text) as unknown as Document);
}

/** The checks every input goes through, then `fast` (or xmldom's parser, should the fast one not be in use). */
function parseChecked(input: string | Uint8Array, what: string, fast: (text: string) => Document): Document {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: false }).decode(input);
  if (text.length > MAX_XML_BYTES) throw new XmlError(`${what}: larger than ${MAX_XML_BYTES} bytes`);
  // Refuse any DTD, wherever it stands (case-insensitive, also inside a leading BOM/comments).
  if (hasDtdMarkup(text)) {
    throw new XmlError(`${what}: a DOCTYPE/ENTITY declaration is not accepted (DTDs and entities are refused)`);
  }
  if (usesFastParser()) {
    try {
      return fast(text);
    } catch (err) {
      throw new XmlError(`${what}: ${(err as Error).message}`);
    }
  }
  return parseWithXmldom(text, what);
}

/** xmldom's own parser, errors (not warnings) refused: the reference behaviour, and the fallback. */
export function parseWithXmldom(text: string, what = 'XML'): Document {
  const errors: string[] = [];
  const parser = new DOMParser({
    onError: (level, msg) => {
      if (level !== 'warning') errors.push(msg);
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch (err) {
    throw new XmlError(`${what}: ${(err as Error).message}`);
  }
  if (errors.length || !doc.documentElement) throw new XmlError(`${what}: ${errors[0] ?? 'no root element'}`);
  return doc;
}

export function serializeXml(node: Document | import('@xmldom/xmldom').Node): string {
  return new XMLSerializer().serializeToString(node as never);
}
