import crypto from 'node:crypto';
import type { Patient } from '../../shared/api/patients';
import type { ShareDmpCheck, ShareDraft, ShareJobView } from '../../shared/api/share';
import type { DmpStatusResult } from '../../shared/api/dmp';
import type { ParsedInput } from '../../shared/api';
import type { Core } from '../core/app-core';
import { AppError, toApiError } from '../core/errors';
import { parseCda, uniqueIdOf } from '../documents';
import { mssanteOf } from '../mssante/service';
import { PATIENT_MAIL_DOMAIN } from '../mssante/wire-profile';
import { PatientRepository } from '../patients/repository';
import { labelOf } from '../terminology';
import { dmpChannel, mssanteChannel, outboxIdOf, requestOf, type ShareRequest } from './channels';
import { buildCdaFromPdf, shareAuthor } from './document';
import { ShareJobRepository, type ShareJob } from './share-jobs';
import { ShareRunner } from './share-runner';

const DRAFT_TTL_MS = 12 * 3600_000;

interface Draft {
  view: ShareDraft;
  blobId: string;
  at: number;
}

function frDate(iso: string): string {
  const [y, m, d] = iso.slice(0, 10).split('-');
  return `${d}/${m}/${y}`;
}

function nameOf(p: Pick<Patient, 'birthFamily' | 'usedFamily' | 'firstGiven' | 'usedGiven'>): string {
  return `${p.usedFamily || p.birthFamily} ${p.usedGiven || p.firstGiven}`;
}

/**
 * Y mode for one Core: prepares documents (CDA kept only in the encrypted blob store), checks the DMP, and runs
 * the share jobs (both channels in parallel, each resumable without redoing what succeeded).
 */
export class ShareService {
  readonly jobs: ShareJobRepository;
  readonly runner: ShareRunner;
  readonly patients: PatientRepository;
  private readonly drafts = new Map<string, Draft>();
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly core: Core) {
    this.jobs = new ShareJobRepository(core.db);
    this.patients = new PatientRepository(core.db);
    this.runner = new ShareRunner(this.jobs, { mssante: mssanteChannel(core), dmp: dmpChannel(core) }, core.events, core.audit, () => this.actor());
    core.onClose(async () => {
      await Promise.allSettled([...this.running.values()]);
      for (const d of this.drafts.values()) this.dropBlob(d.blobId);
      this.drafts.clear();
    });
  }

  private actor(): string {
    try {
      const a = shareAuthor(this.core);
      return `${a.given} ${a.family}`.trim();
    } catch {
      return 'utilisateur';
    }
  }

  private dropBlob(id: string): void {
    try {
      this.core.blobs.delete(id);
    } catch {
      /* already gone */
    }
  }

  /** Channels left running by a crash become failed (resumable). */
  recoverInterrupted(): number {
    return this.jobs.recoverInterrupted();
  }

  prepare(input: ParsedInput<'share.prepare'>): ShareDraft {
    this.expireDrafts();
    const patient = this.patients.get(input.patientId);
    let bytes: Buffer;
    let source: 'pdf' | 'cda';
    if (input.source.kind === 'pdf') {
      const pdf = Buffer.from(input.source.pdfBase64, 'base64');
      if (!input.typeCode || !input.title) throw new AppError('SHARE_TYPE_REQUIRED', 'Indiquez le type et le titre du document.', 'typeCode/title missing');
      const built = buildCdaFromPdf({ pdf, patient, author: shareAuthor(this.core), typeCode: input.typeCode, title: input.title, date: input.date ?? new Date().toISOString().slice(0, 10) });
      bytes = built.bytes;
      source = 'pdf';
    } else {
      bytes = Buffer.from(input.source.cdaBase64, 'base64');
      source = 'cda';
    }
    const parsed = parseCda(bytes);
    const h = parsed.header;
    // The document must be about the current patient.
    if (h.patient.ins && patient.ins && h.patient.ins.value !== patient.ins) {
      throw new AppError('SHARE_PATIENT_MISMATCH', "Ce document concerne un autre patient que le patient en cours.", `CDA INS ${h.patient.ins.value}, patient ${patient.ins}`);
    }
    if (!h.patient.ins && source === 'cda' && patient.ins) {
      throw new AppError('SHARE_PATIENT_MISMATCH', "Ce document n'identifie pas le patient par son INS : il ne peut pas être rattaché au patient en cours.", 'CDA without INS');
    }
    const author = h.authors[0];
    const typeLabel = labelOf('J07_TYPE', h.typeCode.code) ?? h.typeCode.displayName ?? h.typeCode.code;
    const date = (h.serviceEvents[0]?.start ?? h.effectiveTime ?? new Date().toISOString()).slice(0, 10);
    const blobId = this.core.blobs.put(bytes);
    const draftId = crypto.randomUUID();
    const accounts = mssanteOf(this.core).accounts();
    const view: ShareDraft = {
      draftId,
      patientId: patient.id,
      title: h.title,
      typeCode: h.typeCode.code,
      typeLabel,
      date,
      documentId: uniqueIdOf(parsed),
      source,
      size: bytes.length,
      author: {
        name: [author?.prefix, author?.given, author?.family].filter(Boolean).join(' ') || 'Auteur inconnu',
        nationalId: author?.id?.extension ?? author?.id?.root ?? '',
        organization: author?.organization?.name ?? h.custodian?.name ?? '',
      },
      patient: { name: nameOf(patient), ins: patient.ins, insQualified: patient.insQualified },
      patientAddress: patient.ins && patient.insQualified ? `${patient.ins}@${PATIENT_MAIL_DOMAIN}` : null,
      senders: accounts.filter((a) => a.kind !== 'APP').map((a) => ({ address: a.address, kind: a.kind, ...(a.displayName ? { displayName: a.displayName } : {}) })),
      subject: `${h.title} — ${nameOf(patient).toUpperCase()} né(e) le ${frDate(patient.birthDate)}`,
      body: [
        'Bonjour,',
        '',
        `Veuillez trouver ci-joint le document « ${h.title} » (${typeLabel}) du ${frDate(date)} concernant ${nameOf(patient)}, né(e) le ${frDate(patient.birthDate)}.`,
        '',
        'Bien confraternellement,',
      ].join('\n'),
    };
    this.drafts.set(draftId, { view, blobId, at: Date.now() });
    this.core.audit.append({ actor: this.actor(), action: 'share.prepare', subject: view.documentId, outcome: 'success', details: { source, typeCode: view.typeCode, patient: patient.ins ?? `local:${patient.id}`, size: bytes.length } });
    return view;
  }

  private expireDrafts(): void {
    for (const [id, d] of this.drafts) {
      if (Date.now() - d.at > DRAFT_TTL_MS) {
        this.dropBlob(d.blobId);
        this.drafts.delete(id);
      }
    }
  }

  async dmpCheck(patientId: number): Promise<ShareDmpCheck> {
    const p = this.patients.get(patientId);
    if (!p.ins || !p.insQualified) {
      return { state: 'no-ins', canPublish: false, canAuthorize: false, message: "Le DMP n'est alimenté qu'avec une INS qualifiée : qualifiez l'identité du patient (téléservice INSi) pour y déposer ce document." };
    }
    let status: DmpStatusResult;
    try {
      status = await this.core.registry.call('dmp.status', { ins: p.ins, ...(p.insOid ? { insOid: p.insOid } : {}) }, { transport: 'ipc' });
    } catch (err) {
      const error = toApiError(err);
      return { state: 'unavailable', canPublish: false, canAuthorize: false, message: error.message, error };
    }
    return checkOf(status);
  }

  async authorize(patientId: number): Promise<ShareDmpCheck> {
    const p = this.patients.get(patientId);
    if (!p.ins || !p.insQualified) throw new AppError('SHARE_INS_NOT_QUALIFIED', "Le DMP n'est accessible qu'avec une INS qualifiée.", `patient ${p.id}`);
    const r = await this.core.registry.call('dmp.authorize', { ins: p.ins, ...(p.insOid ? { insOid: p.insOid } : {}) }, { transport: 'ipc' });
    return checkOf(r.after);
  }

  send(input: ParsedInput<'share.send'>): { jobId: string } {
    const draft = this.drafts.get(input.draftId);
    if (!draft) throw new AppError('SHARE_DRAFT_UNKNOWN', 'Ce document préparé a expiré : choisissez-le à nouveau.', input.draftId);
    const v = draft.view;
    if (input.mssante?.toPatient && !v.patientAddress) throw new AppError('SHARE_PATIENT_ADDRESS', "La messagerie du patient n'est utilisable qu'avec une INS qualifiée.", 'toPatient without qualified INS');
    if (input.mssante && !v.senders.some((s) => s.address === input.mssante!.from)) throw new AppError('MSS_ACCOUNT_UNKNOWN', "Cette boîte aux lettres d'envoi n'est pas configurée.", input.mssante.from);
    const request: ShareRequest = {
      cdaBlob: draft.blobId,
      documentId: v.documentId,
      patientName: v.patient.name,
      ...(input.mssante ? { mssante: { ...input.mssante } } : {}),
      ...(input.dmp ? { dmp: { masking: input.dmp.masking } } : {}),
    };
    const job = this.jobs.create({
      title: v.title,
      patientIns: v.patient.ins,
      request: request as unknown as Record<string, unknown>,
      channels: [...(input.mssante ? (['mssante'] as const) : []), ...(input.dmp ? (['dmp'] as const) : [])],
    });
    this.drafts.delete(input.draftId); // the blob now belongs to the job
    this.start(job.id);
    return { jobId: job.id };
  }

  resume(jobId: string): { jobId: string } {
    const job = this.jobs.get(jobId);
    if (!job) throw new AppError('SHARE_UNKNOWN', "Ce partage n'existe pas.", jobId);
    if (!this.running.has(jobId)) this.start(jobId);
    return { jobId };
  }

  /** Runs in the background; the renderer follows `task.progress` and `share.get`. */
  private start(jobId: string): void {
    const p = this.runner
      .run(jobId)
      .catch((err) => this.core.audit.append({ actor: this.actor(), action: 'share.run', subject: jobId, outcome: 'failure', details: { error: (err as Error).message } }))
      .finally(() => this.running.delete(jobId));
    this.running.set(jobId, p);
  }

  /** Waits for a share's current run (tests, CLI). */
  async settled(jobId: string): Promise<void> {
    await this.running.get(jobId);
  }

  get(jobId: string): ShareJobView {
    const job = this.jobs.get(jobId);
    if (!job) throw new AppError('SHARE_UNKNOWN', "Ce partage n'existe pas.", jobId);
    return this.view(job);
  }

  list(limit: number): ShareJobView[] {
    return this.jobs.list(limit).map((j) => this.view(j));
  }

  private view(job: ShareJob): ShareJobView {
    const req = requestOf(job);
    const states = Object.values(job.channels).map((c) => c!.status);
    const running = this.running.has(job.id) || states.some((s) => s === 'running' || s === 'pending');
    const state: ShareJobView['state'] = running ? 'running' : states.every((s) => s === 'done') ? 'done' : states.some((s) => s === 'done') ? 'partial' : 'failed';
    let acks: ShareJobView['acks'];
    if (req.mssante) {
      try {
        const item = mssanteOf(this.core).outbox.get(outboxIdOf(job.id));
        acks = { delivery: item.deliveryStatus, read: item.readStatus, integration: item.integrationStatus, code: item.ackCode };
      } catch {
        acks = undefined;
      }
    }
    return {
      id: job.id,
      createdAt: job.createdAt,
      title: job.title,
      patientIns: job.patientIns,
      patientName: req.patientName,
      recipients: req.mssante ? [...req.mssante.to, ...(req.mssante.toPatient && job.patientIns ? [`${job.patientIns}@${PATIENT_MAIL_DOMAIN}`] : [])] : [],
      ...(req.dmp ? { masking: req.dmp.masking } : {}),
      channels: job.channels,
      state,
      ...(acks ? { acks } : {}),
    };
  }
}

export function checkOf(s: DmpStatusResult): ShareDmpCheck {
  if (s.dmp === 'INEXISTANT') return { state: 'no-dmp', canPublish: false, canAuthorize: false, message: s.advice, status: s };
  if (s.dmp === 'FERME') return { state: 'closed', canPublish: false, canAuthorize: false, message: s.advice, status: s };
  switch (s.authorization) {
    case 'VALIDE':
      return { state: 'ready', canPublish: true, canAuthorize: false, message: s.advice, status: s };
    case 'NON_EXISTE':
      return { state: 'authorization-missing', canPublish: false, canAuthorize: true, message: s.advice, status: s };
    case 'EXPIRE':
      return { state: 'authorization-expired', canPublish: false, canAuthorize: true, message: s.advice, status: s };
    case 'INTERDIT':
      return { state: 'forbidden', canPublish: false, canAuthorize: false, message: s.advice, status: s };
  }
}

const services = new WeakMap<Core, ShareService>();

export function shareOf(core: Core): ShareService {
  let s = services.get(core);
  if (!s) {
    s = new ShareService(core);
    services.set(core, s);
  }
  return s;
}
