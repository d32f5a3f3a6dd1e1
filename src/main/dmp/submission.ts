import crypto from 'node:crypto';
import {
  buildAssociation, buildExtrinsicObject, buildRegistryPackage, buildSubmitObjectsRequest,
  type Association, type DocumentEntry, type SubmissionSet, type XdsAuthor,
} from './ebrim';
import { newCid, xopInclude, type MtomAttachment } from './mtom';
import { ASSOCIATION, NS, OID, SIGNATURE_ENTRY, STATUS } from './protocol';
import { WIRE_PROFILE } from './wire-profile';
import { dtm, esc, urnUuid, uuidOid } from './xml-util';
import type { DmpSigning } from './signing';

/** TD2.1 (ITI-41) and TD3.3 (ITI-57) request bodies. */

export interface SubmissionDocument {
  entry: DocumentEntry;
  data: Buffer;
  /** entryUUID of the entry this one replaces (RPLC). */
  replaces?: string;
}

export interface BuiltSubmission {
  bodyXml: string;
  attachments: MtomAttachment[];
  setUniqueId: string;
  signatureUniqueId: string;
  documentUniqueIds: string[];
}

export async function buildProvideAndRegister(docs: SubmissionDocument[], opts: { signing: DmpSigning; sourceId: string; now?: Date; setAuthor?: XdsAuthor }): Promise<BuiltSubmission> {
  if (!docs.length) throw new Error('no document');
  const now = opts.now ?? new Date();
  const first = docs[0]!.entry;
  const setAuthor = opts.setAuthor ?? first.authors[0]!;
  const ss: SubmissionSet = {
    entryUuid: 'SubmissionSet01',
    uniqueId: uuidOid(),
    sourceId: opts.sourceId,
    patientId: first.patientId,
    submissionTime: dtm(now),
    authors: [setAuthor],
    contentTypeCode: first.typeCode ?? { code: first.classCode?.code ?? '10', scheme: first.classCode?.scheme ?? '', display: '' },
    title: first.title,
  };
  const items = [
    { uri: `urn:oid:${ss.uniqueId}`, data: WIRE_PROFILE.xades.setDigestInput(ss.uniqueId) },
    ...docs.map((d) => ({ uri: `urn:oid:${d.entry.uniqueId}`, data: d.data })),
  ];
  const xades = Buffer.from(await opts.signing.signManifest(items, now), 'utf8');
  const sigEntry: DocumentEntry = {
    entryUuid: 'SignatureEntry01',
    uniqueId: uuidOid(),
    mimeType: SIGNATURE_ENTRY.mimeType,
    hash: crypto.createHash('sha1').update(xades).digest('hex'),
    size: xades.length,
    title: 'Signature du lot de soumission',
    patientId: first.patientId,
    sourcePatientId: first.sourcePatientId ?? first.patientId,
    sourcePatientInfo: first.sourcePatientInfo,
    creationTime: dtm(now),
    languageCode: 'fr-FR',
    authors: [setAuthor],
    classCode: { ...SIGNATURE_ENTRY.classCode },
    typeCode: { ...WIRE_PROFILE.signatureEntryTypeCode },
    formatCode: { ...SIGNATURE_ENTRY.formatCode },
    healthcareFacilityTypeCode: first.healthcareFacilityTypeCode,
    practiceSettingCode: first.practiceSettingCode,
    confidentialityCodes: [
      { code: 'N', scheme: OID.confidentiality, display: 'Normal' },
      { code: 'MASQUE_PS', scheme: OID.masking, display: 'Masqué aux professionnels de santé' },
      { code: 'INVISIBLE_PATIENT', scheme: OID.masking, display: 'Non visible par le patient' },
    ],
    eventCodes: [{ ...SIGNATURE_ENTRY.eventCode }],
    referenceIds: [],
  };
  const all = [...docs.map((d) => ({ entry: d.entry, data: d.data })), { entry: sigEntry, data: xades }];
  const assocs: Association[] = [
    ...all.map((d, i) => ({ id: `HasMember${i + 1}`, type: ASSOCIATION.hasMember, source: ss.entryUuid, target: d.entry.entryUuid, slots: { SubmissionSetStatus: ['Original'] } })),
    { id: 'Signs01', type: ASSOCIATION.signs, source: sigEntry.entryUuid, target: ss.entryUuid },
    ...docs.filter((d) => d.replaces).map((d, i) => ({ id: `Rplc${i + 1}`, type: ASSOCIATION.rplc, source: d.entry.entryUuid, target: d.replaces! })),
  ];
  const objects = buildRegistryPackage(ss) + all.map((d) => buildExtrinsicObject(d.entry)).join('') + assocs.map(buildAssociation).join('');
  const attachments: MtomAttachment[] = all.map((d) => ({ cid: newCid(), contentType: d.entry.mimeType, data: d.data }));
  const bodyXml =
    `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}">` +
    buildSubmitObjectsRequest(objects) +
    all.map((d, i) => `<xdsb:Document id="${esc(d.entry.entryUuid)}">${xopInclude(attachments[i]!.cid)}</xdsb:Document>`).join('') +
    `</xdsb:ProvideAndRegisterDocumentSetRequest>`;
  return { bodyXml, attachments, setUniqueId: ss.uniqueId, signatureUniqueId: sigEntry.uniqueId, documentUniqueIds: docs.map((d) => d.entry.uniqueId) };
}

function updateSet(patientId: string, sourceId: string, author: XdsAuthor, now: Date): SubmissionSet {
  return {
    entryUuid: 'SubmissionSet01',
    uniqueId: uuidOid(),
    sourceId,
    patientId,
    submissionTime: dtm(now),
    authors: [author],
    contentTypeCode: { code: 'UPDATE', scheme: '1.2.250.1.213.1.1.4.12', display: 'Mise à jour des métadonnées' },
  };
}

export type StatusTarget = 'approved' | 'archived' | 'deleted';

/** ITI-57 status change: SubmissionSet + UpdateAvailabilityStatus association. */
export function buildStatusUpdate(current: DocumentEntry, to: StatusTarget, opts: { sourceId: string; author: XdsAuthor; now?: Date }): string {
  const ss = updateSet(current.patientId, opts.sourceId, opts.author, opts.now ?? new Date());
  const a: Association = {
    id: urnUuid(),
    type: ASSOCIATION.updateAvailabilityStatus,
    source: ss.entryUuid,
    target: current.entryUuid,
    slots: { OriginalStatus: [current.status ?? STATUS.approved], NewStatus: [STATUS[to]] },
  };
  return buildSubmitObjectsRequest(buildRegistryPackage(ss) + buildAssociation(a));
}

/** ITI-57 metadata update: a new version of the entry (same lid) with the new confidentiality codes. */
export function buildMetadataUpdate(current: DocumentEntry, confidentialityCodes: DocumentEntry['confidentialityCodes'], opts: { sourceId: string; author: XdsAuthor; now?: Date }): string {
  const ss = updateSet(current.patientId, opts.sourceId, opts.author, opts.now ?? new Date());
  const next: DocumentEntry = { ...current, entryUuid: urnUuid(), status: undefined, version: undefined, logicalId: current.logicalId ?? current.entryUuid, confidentialityCodes };
  const a: Association = {
    id: urnUuid(),
    type: ASSOCIATION.hasMember,
    source: ss.entryUuid,
    target: next.entryUuid,
    slots: { SubmissionSetStatus: ['Original'], [WIRE_PROFILE.td33.previousVersionSlot]: [current.version ?? '1'] },
  };
  return buildSubmitObjectsRequest(buildRegistryPackage(ss) + buildExtrinsicObject(next) + buildAssociation(a));
}
