import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { documentTypes } from './document';
import { shareOf } from './service';
import { SHARE_MAX_PDF_BYTES } from '../../shared/api/share';

/** Y mode (share.*): prepare, DMP check / authorization, send, follow, resume, recent shares. */
export function registerSharingHandlers(core: Core): void {
  const svc = () => shareOf(core);
  // Channels a crash left running become failed: the user resumes them knowingly (nothing is redone twice).
  const recovered = svc().recoverInterrupted();
  if (recovered) core.audit.append({ actor: 'application', action: 'share.recover', subject: null, outcome: 'info', details: { channels: recovered } });
  core.registry
    .register('share.documentTypes', () => documentTypes())
    .register('share.prepare', (input) => {
      const b64 = input.source.kind === 'pdf' ? input.source.pdfBase64 : input.source.cdaBase64;
      if (Math.floor((b64.length * 3) / 4) > SHARE_MAX_PDF_BYTES + 2) {
        throw new AppError('SHARE_FILE_TOO_LARGE', 'Le fichier dépasse 20 Mo : il ne peut pas être partagé.', `${b64.length} base64 chars`);
      }
      return svc().prepare(input);
    })
    .register('share.dmpCheck', ({ patientId }) => svc().dmpCheck(patientId))
    .register('share.authorize', ({ patientId }) => svc().authorize(patientId))
    .register('share.send', (input) => svc().send(input))
    .register('share.get', ({ jobId }) => svc().get(jobId))
    .register('share.resume', ({ jobId }) => svc().resume(jobId))
    .register('share.list', ({ limit }) => svc().list(limit));
}
