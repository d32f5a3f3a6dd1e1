import type { Element } from '@xmldom/xmldom';
import { dmpError } from './faults';
import { NS, OID } from './protocol';
import { AUTHORIZATIONS, DMP_STATUSES, WIRE_PROFILE, type Authorization, type DmpStatus } from './wire-profile';
import { attr, child, children, descendant, descendants, esc, text, urnUuid } from './xml-util';

/** TD0.2 (existence + authorization test, HL7v3 PRPA_IN201307UV02 / 201308UV02) and TD0.3 (setAuthorization). */

export interface DmpPatientStatus {
  ins: string;
  insOid: string;
  dmp: DmpStatus;
  authorization: Authorization;
  treatingPhysician: boolean;
  patientWebAccess?: boolean;
  closureDate?: string;
  closureReason?: string;
  /** Acknowledgement code of the HL7v3 response (AA, AE, AR). */
  ack: string;
}

const hl7Time = (d = new Date()): string => d.toISOString().replace(/[-:T]/g, '').slice(0, 14);

export function buildTd02Request(ins: string, insOid: string, senderId: string): string {
  const id = urnUuid().slice(9);
  return (
    `<PRPA_IN201307UV02 xmlns="${NS.hl7}" ITSVersion="XML_1.0">` +
    `<id root="${id}"/>` +
    `<creationTime value="${hl7Time()}"/>` +
    `<interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201307UV02"/>` +
    `<processingCode code="D"/><processingModeCode code="T"/><acceptAckCode code="AL"/>` +
    `<receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="${OID.dmpReceiver}"/></device></receiver>` +
    `<sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="${esc(senderId)}"/></device></sender>` +
    `<controlActProcess classCode="CACT" moodCode="EVN">` +
    `<code code="PRPA_TE201307UV02" codeSystem="2.16.840.1.113883.1.6"/>` +
    `<reasonCode code="TEST_EXST" codeSystem="1.2.250.1.213.1.1.4.11"/>` +
    `<queryByParameter><queryId root="${urnUuid().slice(9)}"/><statusCode code="new"/><responsePriorityCode code="I"/>` +
    `<parameterList><patientIdentifier><value root="${esc(insOid)}" extension="${esc(ins)}"/><semanticsText>Patient.id</semanticsText></patientIdentifier></parameterList>` +
    `</queryByParameter></controlActProcess></PRPA_IN201307UV02>`
  );
}

export function parseTd02Request(e: Element): { ins: string; insOid: string } {
  if (e.namespaceURI !== NS.hl7 || e.localName !== 'PRPA_IN201307UV02') throw new Error('not a PRPA_IN201307UV02');
  const pi = descendant(e, NS.hl7, 'patientIdentifier');
  const v = pi ? child(pi, NS.hl7, 'value') : undefined;
  const reason = descendant(e, NS.hl7, 'reasonCode');
  if (attr(reason, 'code') !== 'TEST_EXST') throw new Error(`reasonCode must be TEST_EXST, got ${attr(reason, 'code')}`);
  const ins = attr(v, 'extension');
  const insOid = attr(v, 'root');
  if (!ins || !insOid) throw new Error('parameterList/patientIdentifier/value@root/@extension missing');
  return { ins, insOid };
}

export function buildTd02Response(requestId: string | undefined, s: Omit<DmpPatientStatus, 'ack'>): string {
  const c = WIRE_PROFILE.td02.codes;
  const cs = WIRE_PROFILE.td02.observationCodeSystem;
  const obs = (code: string, value: string): string =>
    `<subjectOf1 typeCode="SBJ"><observation classCode="OBS" moodCode="EVN"><code code="${code}" codeSystem="${cs}"/><value xsi:type="CE" code="${esc(value)}"/></observation></subjectOf1>`;
  const facts = [
    obs(c.dmpStatus, s.dmp),
    obs(c.authorization, s.authorization),
    obs(c.treatingPhysician, s.treatingPhysician ? 'true' : 'false'),
    ...(s.patientWebAccess === undefined ? [] : [obs(c.patientWebAccess, s.patientWebAccess ? 'true' : 'false')]),
    ...(s.closureDate ? [obs(c.closureDate, s.closureDate)] : []),
    ...(s.closureReason ? [obs(c.closureReason, s.closureReason)] : []),
  ];
  return (
    `<PRPA_IN201308UV02 xmlns="${NS.hl7}" xmlns:xsi="${NS.xsi}" ITSVersion="XML_1.0">` +
    `<id root="${urnUuid().slice(9)}"/><creationTime value="${hl7Time()}"/>` +
    `<interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201308UV02"/>` +
    `<processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="NE"/>` +
    `<acknowledgement><typeCode code="AA"/>${requestId ? `<targetMessage><id root="${esc(requestId)}"/></targetMessage>` : ''}</acknowledgement>` +
    `<controlActProcess classCode="CACT" moodCode="EVN"><code code="PRPA_TE201308UV02" codeSystem="2.16.840.1.113883.1.6"/>` +
    `<subject typeCode="SUBJ"><registrationEvent classCode="REG" moodCode="EVN"><statusCode code="active"/>` +
    `<subject1 typeCode="SBJ"><patient classCode="PAT"><id root="${esc(s.insOid)}" extension="${esc(s.ins)}"/>` +
    `<statusCode code="${s.dmp === 'ACTIF' ? 'active' : s.dmp === 'FERME' ? 'terminated' : 'nullified'}"/>` +
    facts.join('') +
    `</patient></subject1></registrationEvent></subject>` +
    `<queryAck><queryResponseCode code="${s.dmp === 'INEXISTANT' ? 'NF' : 'OK'}"/></queryAck>` +
    `</controlActProcess></PRPA_IN201308UV02>`
  );
}

export function parseTd02Response(e: Element, ins: string, insOid: string): DmpPatientStatus {
  if (e.namespaceURI !== NS.hl7 || e.localName !== 'PRPA_IN201308UV02') throw dmpError('DMP_BAD_RESPONSE', `TD0.2: unexpected ${e.localName}`);
  const c = WIRE_PROFILE.td02.codes;
  const facts = new Map<string, string>();
  for (const o of descendants(e, NS.hl7, 'observation')) {
    const code = attr(child(o, NS.hl7, 'code'), 'code');
    const value = attr(child(o, NS.hl7, 'value'), 'code') ?? text(child(o, NS.hl7, 'value'));
    if (code) facts.set(code, value ?? '');
  }
  const ack = attr(descendant(e, NS.hl7, 'typeCode'), 'code') ?? '';
  const dmp = facts.get(c.dmpStatus);
  const auth = facts.get(c.authorization);
  if (!dmp || !(DMP_STATUSES as readonly string[]).includes(dmp)) throw dmpError('DMP_BAD_RESPONSE', `TD0.2: DMP status missing or unknown: ${dmp}`);
  if (!auth || !(AUTHORIZATIONS as readonly string[]).includes(auth)) throw dmpError('DMP_BAD_RESPONSE', `TD0.2: authorization missing or unknown: ${auth}`);
  const web = facts.get(c.patientWebAccess);
  return {
    ins,
    insOid,
    dmp: dmp as DmpStatus,
    authorization: auth as Authorization,
    treatingPhysician: facts.get(c.treatingPhysician) === 'true',
    ...(web !== undefined ? { patientWebAccess: web === 'true' } : {}),
    ...(facts.get(c.closureDate) ? { closureDate: facts.get(c.closureDate) } : {}),
    ...(facts.get(c.closureReason) ? { closureReason: facts.get(c.closureReason) } : {}),
    ack,
  };
}

// TD0.3 -----------------------------------------------------------------------------------------------------

export function buildTd03Request(remove: boolean): string {
  const ns = WIRE_PROFILE.td03.namespace;
  return `<setAuthorization xmlns="${ns}"><action>${remove ? WIRE_PROFILE.td03.actionRemove : WIRE_PROFILE.td03.actionAdd}</action></setAuthorization>`;
}

export function parseTd03Request(e: Element): { remove: boolean } {
  const ns = WIRE_PROFILE.td03.namespace;
  if (e.namespaceURI !== ns || e.localName !== 'setAuthorization') throw new Error(`expected {${ns}}setAuthorization`);
  const action = text(child(e, ns, 'action'));
  if (action === WIRE_PROFILE.td03.actionAdd) return { remove: false };
  if (action === WIRE_PROFILE.td03.actionRemove) return { remove: true };
  throw new Error(`unknown action ${action}`);
}

export function buildTd03Response(status: string, expiresAt?: string): string {
  const ns = WIRE_PROFILE.td03.namespace;
  return `<setAuthorizationResponse xmlns="${ns}"><status>${esc(status)}</status>${expiresAt ? `<dateFin>${esc(expiresAt)}</dateFin>` : ''}</setAuthorizationResponse>`;
}

export function parseTd03Response(e: Element): { status: string; expiresAt?: string } {
  const ns = WIRE_PROFILE.td03.namespace;
  if (e.localName !== 'setAuthorizationResponse') throw dmpError('DMP_BAD_RESPONSE', `TD0.3: unexpected ${e.localName}`);
  const exp = text(child(e, ns, 'dateFin'));
  return { status: text(child(e, ns, 'status')), ...(exp ? { expiresAt: exp } : {}) };
}

export { children };
