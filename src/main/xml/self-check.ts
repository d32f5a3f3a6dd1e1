import { DOMParser } from '@xmldom/xmldom';
import { compareDom } from './dom-compare';
import { parseXmlFast } from './fast-parse';

/**
 * A document exercising every construct the fast parser builds by hand. Parsed at load by both parsers: if the
 * installed xmldom lays its nodes out differently (another version), `parseXml` falls back to xmldom's parser.
 */
export const SELF_CHECK_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n<!-- before -->\n<?app data  ?>\n' +
  '<r:root xmlns:r="urn:r" xmlns="urn:d" xml:lang="fr" a="x\ty &amp; &#9;&#x10000;">\n' +
  '  <child id="1" r:k="v">t&lt;ext<![CDATA[<raw>]]>more<![CDATA[]]>merged</child>\n' +
  '  <reset xmlns=""><deep xmlns:r="urn:r2"><r:x r:y="1"/></deep></reset><?p?><!---->\n' +
  '  <é:ü xmlns:é="urn:é" é:ñ="&quot;&apos;&gt;"/>\n' +
  '</r:root>\n<!-- after -->\n';

export function fastParserMatchesXmldom(): boolean {
  try {
    const ref = new DOMParser({
      onError: (level, msg) => {
        if (level !== 'warning') throw new Error(msg);
      },
    }).parseFromString(SELF_CHECK_XML, 'text/xml');
    return compareDom(ref, parseXmlFast(SELF_CHECK_XML), { ownKeys: true }) === null;
  } catch {
    return false;
  }
}

/** The first difference found by the self-check (for tests and diagnostics). */
export function selfCheckDifference(): string | null {
  const ref = new DOMParser().parseFromString(SELF_CHECK_XML, 'text/xml');
  return compareDom(ref, parseXmlFast(SELF_CHECK_XML), { ownKeys: true });
}
