import type { DocumentProblem, ParsedCda } from '../documents/types';
import * as documents from '../documents';

/**
 * What the mail capability needs from the documents capability (`src/main/documents`, see
 * docs/documents-api.md): CDA parsing, the IHE_XDM.zip writer/reader, the companion PDF and the subject.
 * Kept behind this one port so the mail code states exactly which parts of that API it relies on.
 */
export interface XdmReadDocument {
  uri: string;
  uniqueId: string;
  hashValid: boolean;
  sizeValid: boolean;
  action?: 'C' | 'D' | string | null;
  problems: DocumentProblem[];
  mimeType?: string;
  title?: string;
  path?: string;
  /** Kept in memory instead of `path` (small archives, `inMemoryMaxBytes`). */
  bytes?: Buffer;
  /** Already parsed by the reader's check. */
  cda?: ParsedCda;
}

export interface XdmReadResult {
  submissionSet: { uniqueId?: string; sourceId?: string; patientId?: string } | null;
  documents: XdmReadDocument[];
  problems: DocumentProblem[];
  cleanup(): void;
}

export interface XdmWriteOptions {
  sourceId: string;
  patientIdMode?: 'ins' | 'first';
  senderName?: string;
  companionPdfs?: boolean;
  intendedRecipients?: string[];
  documents?: Array<{ action?: 'C' | 'D' }>;
}

export interface DocumentsPort {
  parseCda(xml: string | Buffer): ParsedCda;
  writeXdm(docs: ParsedCda[], options: XdmWriteOptions): Promise<{ zip?: Buffer; companions: { name: string; pdf: Buffer }[] }>;
  readXdm(zip: Buffer | string, options?: { limits?: Record<string, number>; workDir?: string; inMemoryMaxBytes?: number }): Promise<XdmReadResult>;
  xdmSubject(docs: ParsedCda[]): string;
}

/** The real documents capability behind the port. */
export function documentsPort(): DocumentsPort {
  return documents as unknown as DocumentsPort;
}
