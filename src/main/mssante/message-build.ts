import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';
import type { ParsedCda } from '../documents/types';
import { AppError } from '../core/errors';
import { documentsPort } from './documents-port';
import { domainOf } from './discovery';
import {
  HEADER_CODECDA,
  HEADER_INS,
  HEADER_MES,
  HEADER_NIL,
  MES_CLOSE_VALUE,
  PATIENT_MAIL_DOMAIN,
  XDM_ATTACHMENT_NAME,
  XDM_SUBJECT_PREFIX,
} from './wire-profile';

/**
 * TM3.2C: one message for ONE patient — the subject rule, a body, one IHE_XDM.zip and one companion PDF per
 * CDA, the X-MSS-* headers, acknowledgement requests. The result is the exact bytes that go on the wire
 * (kept in the outbox, and as the sent copy).
 */
export interface DocumentMessageInput {
  from: string;
  to: string[];
  cc?: string[];
  cdas: ParsedCda[];
  /** Free subject text; the XDM rule prefix is always applied. Default: the rule's label. */
  subject?: string;
  body?: string;
  ack?: { delivery?: boolean; read?: boolean };
  /** X-MSS-NIL: the product id given at referencing time. */
  nil: string;
  /** Also send to the patient's Mon espace santé mailbox (qualified INS only). */
  toPatient?: boolean;
  /** X-MSS-MES: FIN — the professional closes the channel (the patient cannot reply). */
  closePatientChannel?: boolean;
  /** The sender's OID for the XDM submission set (sourceId). */
  sourceId: string;
  senderName?: string;
  action?: 'C' | 'D';
}

export interface BuiltMessage {
  raw: Buffer;
  messageId: string;
  subject: string;
  recipients: string[];
  headers: Record<string, string>;
  documents: { id: string; typeCode: string; title: string }[];
  patient?: { ins?: string; name?: string };
}

/** nodemailer normalises header names (X-Mss-Codecda): restore the exact spelling of ours in the header block. */
export function exactHeaderNames(raw: Buffer, names: string[]): Buffer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return raw;
  let head = text.slice(0, end);
  for (const n of names) head = head.replace(new RegExp(`^${n.replace(/[-]/g, '\\-')}:`, 'gim'), `${n}:`);
  return Buffer.from(head + text.slice(end), 'latin1');
}

export function newMessageId(from: string): string {
  return `<${randomUUID()}@${domainOf(from)}>`;
}

/** `<INS>@patient.mssante.fr`, only from a qualified INS (CDA INS ids are qualified by construction). */
export function patientAddress(cda: ParsedCda): string {
  const ins = cda.header.patient.ins;
  if (!ins || !/^[0-9]{15}$|^[12][0-9]{4}2[AB][0-9]{8}$/.test(ins.value)) {
    throw new AppError('MSS_PATIENT_NO_INS', "Le patient n'a pas d'INS qualifiée : sa messagerie Mon espace santé ne peut pas être adressée.", 'no qualified INS in the CDA');
  }
  return `${ins.value}@${PATIENT_MAIL_DOMAIN}`;
}

function samePatient(a: ParsedCda, b: ParsedCda): boolean {
  const pa = a.header.patient;
  const pb = b.header.patient;
  if (pa.ins && pb.ins) return pa.ins.value === pb.ins.value && pa.ins.oid === pb.ins.oid;
  const ka = pa.ids.map((i) => `${i.root}^${i.extension ?? ''}`);
  return pb.ids.some((i) => ka.includes(`${i.root}^${i.extension ?? ''}`));
}

function cleanHeaderValue(v: string): string {
  return v.replace(/[\r\n]+/g, ' ').trim();
}

export async function buildDocumentMessage(input: DocumentMessageInput): Promise<BuiltMessage> {
  if (!input.cdas.length) throw new AppError('MSS_NO_DOCUMENT', 'Aucun document à envoyer.', 'cdas is empty');
  const first = input.cdas[0]!;
  for (const c of input.cdas.slice(1)) {
    if (!samePatient(first, c)) {
      throw new AppError('MSS_MULTIPLE_PATIENTS', 'Un message MSSanté ne peut concerner qu’un seul patient : envoyez ces documents séparément.', 'documents for different patients');
    }
  }
  const docs = documentsPort();
  const recipients = [...input.to.map((a) => a.toLowerCase())];
  if (input.toPatient) {
    const pa = patientAddress(first);
    if (!recipients.includes(pa)) recipients.push(pa);
  }
  if (input.closePatientChannel && !recipients.some((r) => r.endsWith(`@${PATIENT_MAIL_DOMAIN}`))) {
    throw new AppError('MSS_MES_WITHOUT_PATIENT', 'La fermeture du canal ne concerne qu’un message adressé au patient.', 'X-MSS-MES without a patient recipient');
  }
  const written = await docs.writeXdm(input.cdas, {
    sourceId: input.sourceId,
    patientIdMode: 'first',
    senderName: input.senderName,
    companionPdfs: true,
    intendedRecipients: recipients,
    ...(input.action ? { documents: input.cdas.map(() => ({ action: input.action })) } : {}),
  });
  if (!written.zip) throw new AppError('MSS_XDM_FAILED', "L'archive IHE_XDM n'a pas pu être construite.", 'writeXdm returned no zip');
  const ruleSubject = docs.xdmSubject(input.cdas);
  const subject = input.subject
    ? input.subject.startsWith(XDM_SUBJECT_PREFIX)
      ? input.subject
      : `${XDM_SUBJECT_PREFIX}+${cleanHeaderValue(input.subject)}`
    : ruleSubject;
  const messageId = newMessageId(input.from);
  const codes = input.cdas.map((c) => c.header.typeCode.code);
  const headers: Record<string, string> = {
    [HEADER_CODECDA]: codes.join(','),
    [HEADER_INS]: input.cdas.every((c) => !!c.header.patient.ins) ? 'O' : 'N',
    [HEADER_NIL]: cleanHeaderValue(input.nil),
  };
  if (input.closePatientChannel) headers[HEADER_MES] = MES_CLOSE_VALUE;
  if (input.ack?.read) headers['Disposition-Notification-To'] = input.from;
  const patient = first.header.patient;
  const body =
    input.body ??
    [
      'Bonjour,',
      '',
      `Veuillez trouver ci-joint ${input.cdas.length > 1 ? `${input.cdas.length} documents` : 'le document'} concernant ${[patient.birthFamily, patient.firstGiven].filter(Boolean).join(' ')}${patient.birthDate ? ` (né(e) le ${patient.birthDate})` : ''} :`,
      ...input.cdas.map((c) => `  - ${c.header.title}`),
      '',
      `Les documents sont joints au format CDA R2 (${XDM_ATTACHMENT_NAME}) et PDF.`,
    ].join('\n');
  const attachments: Mail.Attachment[] = [
    { filename: XDM_ATTACHMENT_NAME, content: written.zip, contentType: 'application/zip' },
    ...written.companions.map((c) => ({ filename: c.name, content: c.pdf, contentType: 'application/pdf' })),
  ];
  const mail = new MailComposer({
    from: input.from,
    // The patient address goes in To: like any recipient (the operator routes it to Mon espace santé).
    to: input.toPatient ? [...input.to, patientAddress(first)] : input.to,
    cc: input.cc,
    subject,
    text: body,
    messageId,
    date: new Date(),
    headers: Object.entries(headers).map(([key, value]) => ({ key, value })),
    attachments,
    textEncoding: 'quoted-printable',
  });
  const raw = exactHeaderNames(await mail.compile().build(), Object.keys(headers));
  return {
    raw,
    messageId,
    subject,
    recipients: [...recipients, ...(input.cc ?? []).map((a) => a.toLowerCase())],
    headers,
    documents: input.cdas.map((c) => ({ id: `${c.header.id.root}${c.header.id.extension ? `^${c.header.id.extension}` : ''}`, typeCode: c.header.typeCode.code, title: c.header.title })),
    patient: { ins: patient.ins?.value, name: [patient.birthFamily, patient.firstGiven].filter(Boolean).join(' ') },
  };
}

/** A plain message (no document): still carries X-MSS-NIL (every message). */
export async function buildPlainMessage(input: { from: string; to: string[]; subject: string; body: string; nil: string; ack?: { read?: boolean } }): Promise<BuiltMessage> {
  const messageId = newMessageId(input.from);
  const headers: Record<string, string> = { [HEADER_NIL]: cleanHeaderValue(input.nil) };
  if (input.ack?.read) headers['Disposition-Notification-To'] = input.from;
  const raw = await new MailComposer({
    from: input.from,
    to: input.to,
    subject: input.subject,
    text: input.body,
    messageId,
    date: new Date(),
    headers: Object.entries(headers).map(([key, value]) => ({ key, value })),
  })
    .compile()
    .build()
    .then((b) => exactHeaderNames(b, Object.keys(headers)));
  return { raw, messageId, subject: input.subject, recipients: input.to.map((a) => a.toLowerCase()), headers, documents: [] };
}
