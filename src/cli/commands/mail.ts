import fs from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../main/core/errors';
import { mssanteOf } from '../../main/mssante/service';
import { withCore } from '../context';
import { ExitCode, makeOutput } from '../output';

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function registerMailCommands(program: Command): void {
  const mail = program.command('mail').description('MSSanté secure messaging: send documents, synchronise a mailbox, MDN');

  mail
    .command('send')
    .description('send CDA documents of ONE patient (IHE_XDM.zip + PDF, X-MSS headers) through the persistent outbox')
    .requiredOption('--from <address>', 'sending mailbox (of the active profile)')
    .requiredOption('--to <address...>', 'recipients', collect, [])
    .option('--cc <address...>', 'copy recipients', collect, [])
    .option('--cda <file...>', 'CDA R2 document(s)', collect, [])
    .option('--subject <text>', 'subject text (the XDM/1.0/DDM+ prefix is added)')
    .option('--body <text>', 'message body')
    .option('--ack <kinds>', 'acknowledgements: delivery,read', '')
    .option('--patient', "also send to the patient's Mon espace santé mailbox (qualified INS)")
    .option('--close', 'close the channel with the patient (X-MSS-MES: FIN)')
    .option('--action <C|D>', 'XDM action: C replacement, D deletion')
    .option('--queue-only', 'only queue the message (sent by the next flush)')
    .option('--json', 'print JSON')
    .action(async (o: { from: string; to: string[]; cc: string[]; cda: string[]; subject?: string; body?: string; ack: string; patient?: boolean; close?: boolean; action?: 'C' | 'D'; queueOnly?: boolean; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const acks = o.ack.split(',').map((s) => s.trim().toLowerCase());
      const item = await withCore(cmd, (core) =>
        core.registry.call('mssante.send', {
          from: o.from,
          to: o.to,
          ...(o.cc.length ? { cc: o.cc } : {}),
          cdaFiles: o.cda,
          subject: o.subject,
          body: o.body,
          ack: { delivery: acks.includes('delivery'), read: acks.includes('read') },
          toPatient: !!o.patient,
          closePatientChannel: !!o.close,
          ...(o.action ? { action: o.action } : {}),
          sendNow: !o.queueOnly,
        }),
      );
      out.result(item, () => `${item.status === 'sent' ? 'Envoyé' : item.status === 'failed' ? 'ÉCHEC' : 'En attente'} : ${item.subject} → ${item.recipients.join(', ')}${item.lastError ? `\n  ${item.lastError}` : ''}`);
      if (item.status === 'failed') throw new ExitCode(1);
    });

  mail
    .command('send-raw')
    .description('SANDBOX ONLY: send a prepared message file (.eml) as is, to exercise the receiving side (hostile mail, other senders)')
    .requiredOption('--from <address>', 'sending mailbox of the sandbox profile')
    .requiredOption('--to <address...>', 'recipients', collect, [])
    .requiredOption('--eml <file>', 'RFC 5322 message')
    .option('--json', 'print JSON')
    .action(async (o: { from: string; to: string[]; eml: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const item = await withCore(cmd, async (core) => {
        const svc = mssanteOf(core);
        const account = svc.account(o.from);
        if (!account.sandbox) throw new AppError('MSS_SANDBOX_ONLY', "L'envoi d'un message préparé n'est possible qu'avec les boîtes du bac à sable.", o.from);
        let raw: Buffer;
        try {
          raw = fs.readFileSync(o.eml);
        } catch (err) {
          throw new AppError('MSS_EML_UNREADABLE', `Le fichier ${o.eml} n'a pas pu être lu.`, (err as Error).message);
        }
        const head = raw.subarray(0, Math.max(0, raw.indexOf('\r\n\r\n')) || 64 * 1024).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
        const messageId = /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(head)?.[1] ?? `<raw-${Date.now()}@${account.address.split('@')[1]}>`;
        const subject = /^Subject:\s*(.*)$/im.exec(head)?.[1]?.trim() ?? '';
        const queued = svc.outbox.enqueue({ account: account.address, kind: 'message', built: { raw, messageId, subject, recipients: o.to.map((a) => a.toLowerCase()), headers: {}, documents: [] }, meta: { prepared: o.eml } });
        const [sent] = await svc.outbox.flush({ ids: [queued.id] });
        return sent ?? svc.outbox.get(queued.id);
      });
      out.result(item, () => `${item.status === 'sent' ? 'Envoyé' : item.status === 'failed' ? 'ÉCHEC' : 'En attente'} : ${item.subject} → ${item.recipients.join(', ')}${item.lastError ? `\n  ${item.lastError}` : ''}`);
      if (item.status === 'failed') throw new ExitCode(1);
    });

  mail
    .command('sync')
    .description('synchronise a mailbox: integrate document mails, queue the rest, answer MDNs, record incoming MDN/DSN')
    .requiredOption('--account <address>', 'mailbox of the active profile')
    .option('--json', 'print JSON')
    .action(async (o: { account: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const r = await withCore(cmd, (core) => core.registry.call('mssante.sync', { account: o.account }));
      out.result(r, () =>
        [
          `${r.account} : ${r.messages.length} message(s) traité(s)`,
          ...r.messages.map((m) => {
            const docs = m.documents.map((d) => `    ${d.classification} ${d.result}${d.code ? ` [${d.code}]` : ''} ${d.title ?? d.documentId}`);
            return [`  ${m.kind}${m.error ? ` [${m.error.code}]` : ''} ${m.subject ?? ''}`, ...docs, ...(m.mdn ? [`    MDN ${m.mdn.disposition}${m.mdn.code ? ` ${m.mdn.code}` : ''}`] : [])].join('\n');
          }),
          `MDN envoyés : ${r.mdnsSent.filter((x) => x.status === 'sent').length}`,
        ].join('\n'),
      );
    });

  mail
    .command('mdn')
    .description('send a manual read notification (MDN "displayed") for a received message that asked for one')
    .requiredOption('--account <address>', 'mailbox that received the message')
    .requiredOption('--message-id <id>', 'Message-ID of the received message')
    .option('--json', 'print JSON')
    .action(async (o: { account: string; messageId: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const item = await withCore(cmd, (core) => core.registry.call('mssante.mdn.read', { account: o.account, messageId: o.messageId }));
      out.result(item, () => `Accusé de lecture ${item.status === 'sent' ? 'envoyé' : 'en attente'} à ${item.recipients.join(', ')}`);
    });

  mail
    .command('outbox')
    .description('outbox and sent messages with their acknowledgements (delivered, read, integrated, failed + code)')
    .option('--account <address>', 'only this mailbox')
    .option('--flush', 'send what is due first')
    .option('--json', 'print JSON')
    .action(async (o: { account?: string; flush?: boolean; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const items = await withCore(cmd, async (core) => {
        if (o.flush) await core.registry.call('mssante.outbox.flush', { account: o.account });
        return core.registry.call('mssante.outbox.list', { account: o.account });
      });
      out.result(items, () =>
        items.map((i) => `${i.status}\t${i.kind}\t${i.subject}\tremise=${i.deliveryStatus ?? '-'} lecture=${i.readStatus ?? '-'} intégration=${i.integrationStatus ?? '-'}${i.ackCode ? ` [${i.ackCode}]` : ''}`).join('\n'),
      );
    });

  mail
    .command('documents')
    .description('received documents (integrated, queued for manual import, replaced, deleted, rejected)')
    .option('--status <status>', 'filter')
    .option('--json', 'print JSON')
    .action(async (o: { status?: 'integrated' | 'queued' | 'replaced' | 'deleted' | 'rejected'; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const docs = await withCore(cmd, (core) => core.registry.call('mssante.documents.list', { status: o.status }));
      out.result(docs, () => docs.map((d) => `${d.id}\t${d.status}\t${d.classification}\t${d.title ?? ''}\t${d.patientName ?? ''}`).join('\n'));
    });
}
