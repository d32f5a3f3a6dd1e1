import type { DocumentProblem, ParsedCda } from '../documents/types';
import { AppError } from '../core/errors';

/**
 * What the mail capability needs from the documents capability (`src/main/documents`, see
 * docs/documents-api.md): CDA parsing, the IHE_XDM.zip writer/reader, the companion PDF and the subject.
 * Loaded lazily through this one port so the mail code compiles and its transport tests run while the
 * documents façade is being built; every call goes to the real implementation.
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
  readXdm(zip: Buffer | string, options?: { limits?: Record<string, number>; workDir?: string }): Promise<XdmReadResult>;
  xdmSubject(docs: ParsedCda[]): string;
}

let cached: DocumentsPort | undefined;

export function documentsPort(): DocumentsPort {
  if (cached) return cached;
  let mod: Partial<DocumentsPort>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('../documents') as Partial<DocumentsPort>;
  } catch (err) {
    throw new AppError('MSS_DOCUMENTS_UNAVAILABLE', "Le module de documents n'est pas disponible dans cette version.", (err as Error).message);
  }
  for (const fn of ['parseCda', 'writeXdm', 'readXdm', 'xdmSubject'] as const) {
    if (typeof mod[fn] !== 'function') {
      throw new AppError('MSS_DOCUMENTS_UNAVAILABLE', "Le module de documents n'est pas disponible dans cette version.", `documents.${fn} is missing`);
    }
  }
  cached = mod as DocumentsPort;
  return cached;
}
