import type { Document, Element } from '@xmldom/xmldom';
import { parseXml } from '../xml/safe-xml';
import { DMP_ERRORS, dmpError, type DmpErrorCode, fromServiceError, type DmpError } from './faults';
import { NS } from './protocol';
import { attr, child, children, esc, text, urnUuid } from './xml-util';

export const ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';
export const SOAP_CONTENT_TYPE = 'application/soap+xml';

export interface RequestEnvelopeInput {
  action: string;
  to: string;
  /** A serialized (signed) saml2:Assertion, inserted verbatim in wsse:Security. */
  assertionXml?: string;
  /** The body's single child element, serialized. */
  bodyXml: string;
  messageId?: string;
}

/** A SOAP 1.2 request with WS-Addressing 2005/08 headers and the VIHF in WS-Security. */
export function buildRequestEnvelope(input: RequestEnvelopeInput): { xml: string; messageId: string } {
  const messageId = input.messageId ?? urnUuid();
  const security = input.assertionXml
    ? `<wsse:Security xmlns:wsse="${NS.wsse}" soap:mustUnderstand="true">${input.assertionXml}</wsse:Security>`
    : '';
  const xml =
    `<soap:Envelope xmlns:soap="${NS.soap}" xmlns:wsa="${NS.wsa}">` +
    `<soap:Header>` +
    `<wsa:Action soap:mustUnderstand="true">${esc(input.action)}</wsa:Action>` +
    `<wsa:MessageID>${esc(messageId)}</wsa:MessageID>` +
    `<wsa:ReplyTo><wsa:Address>${ANONYMOUS}</wsa:Address></wsa:ReplyTo>` +
    `<wsa:To soap:mustUnderstand="true">${esc(input.to)}</wsa:To>` +
    security +
    `</soap:Header>` +
    `<soap:Body>${input.bodyXml}</soap:Body>` +
    `</soap:Envelope>`;
  return { xml, messageId };
}

export function buildResponseEnvelope(action: string, relatesTo: string | undefined, bodyXml: string): string {
  return (
    `<soap:Envelope xmlns:soap="${NS.soap}" xmlns:wsa="${NS.wsa}">` +
    `<soap:Header>` +
    `<wsa:Action soap:mustUnderstand="true">${esc(action)}</wsa:Action>` +
    `<wsa:MessageID>${urnUuid()}</wsa:MessageID>` +
    (relatesTo ? `<wsa:RelatesTo>${esc(relatesTo)}</wsa:RelatesTo>` : '') +
    `</soap:Header>` +
    `<soap:Body>${bodyXml}</soap:Body>` +
    `</soap:Envelope>`
  );
}

export const FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/soap/fault';
export const DMP_FAULT_NS = 'urn:lps:dmp:erreurs';

/** A SOAP 1.2 fault: Sender/Receiver, a `dmp:<code>` subcode, the French reason and a technical detail. */
export function buildFault(code: DmpErrorCode, detail: string, relatesTo?: string, receiver = false): string {
  const body =
    `<soap:Fault>` +
    `<soap:Code><soap:Value>soap:${receiver ? 'Receiver' : 'Sender'}</soap:Value>` +
    `<soap:Subcode><soap:Value xmlns:dmp="${DMP_FAULT_NS}">dmp:${code}</soap:Value></soap:Subcode></soap:Code>` +
    `<soap:Reason><soap:Text xml:lang="fr">${esc(DMP_ERRORS[code])}</soap:Text></soap:Reason>` +
    `<soap:Detail><dmp:detail xmlns:dmp="${DMP_FAULT_NS}">${esc(detail)}</dmp:detail></soap:Detail>` +
    `</soap:Fault>`;
  return buildResponseEnvelope(FAULT_ACTION, relatesTo, body);
}

export interface ParsedEnvelope {
  doc: Document;
  header: Element | undefined;
  body: Element;
  /** The body's first element child. */
  payload: Element | undefined;
  action?: string;
  messageId?: string;
  relatesTo?: string;
  to?: string;
  security?: Element;
  assertion?: Element;
}

export function parseEnvelope(xml: string | Uint8Array): ParsedEnvelope {
  const doc = parseXml(xml, 'SOAP');
  const env = doc.documentElement!;
  if (env.namespaceURI !== NS.soap || env.localName !== 'Envelope') {
    throw dmpError('DMP_BAD_RESPONSE', `not a SOAP 1.2 envelope: {${env.namespaceURI}}${env.localName}`);
  }
  const header = child(env, NS.soap, 'Header');
  const body = child(env, NS.soap, 'Body');
  if (!body) throw dmpError('DMP_BAD_RESPONSE', 'SOAP envelope without Body');
  const security = header ? child(header, NS.wsse, 'Security') : undefined;
  const h = (local: string): string | undefined => {
    const e = header ? child(header, NS.wsa, local) : undefined;
    return e ? text(e) : undefined;
  };
  return {
    doc,
    header,
    body,
    payload: children(body)[0],
    action: h('Action'),
    messageId: h('MessageID'),
    relatesTo: h('RelatesTo'),
    to: h('To'),
    security,
    assertion: security ? child(security, NS.saml, 'Assertion') : undefined,
  };
}

/** If the body is a SOAP fault, the matching DmpError; else undefined. */
export function faultOf(env: ParsedEnvelope): DmpError | undefined {
  const fault = env.payload && env.payload.namespaceURI === NS.soap && env.payload.localName === 'Fault' ? env.payload : undefined;
  if (!fault) return undefined;
  const code = child(fault, NS.soap, 'Code');
  const value = code ? text(child(code, NS.soap, 'Value')) : '';
  const sub = code ? child(code, NS.soap, 'Subcode') : undefined;
  const subValue = sub ? text(child(sub, NS.soap, 'Value')) : '';
  const reason = child(fault, NS.soap, 'Reason');
  const texts = reason ? children(reason, NS.soap, 'Text') : [];
  const fr = texts.find((t) => (attr(t, 'xml:lang') ?? '').startsWith('fr')) ?? texts[0];
  const detailEl = child(fault, NS.soap, 'Detail');
  return fromServiceError('soap', subValue || value || 'Fault', text(fr) || undefined, detailEl ? text(detailEl) : undefined);
}
