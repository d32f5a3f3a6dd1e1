import { ANS_EXTRACTION_HEADER } from './directory';
import { startSandboxDirectoryFhir } from './directory-fhir-sandbox';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxContext, SandboxService } from '../sandbox/service';
import { removeSpoolCompanion, startMailServers, type MailServerUser } from './mail-servers';
import { ensureLocalMailPki } from './sandbox-pki';
import { PATIENT_MAIL_DOMAIN } from './wire-profile';

/**
 * The sandbox "MSSanté operator": private Dovecot + Postfix on free loopback ports (see mail-servers.ts),
 * mailboxes for two practitioners (PER), a hospital service (ORG) and a PFI application mailbox (APP), the
 * test patient known on the receiving side, and a directory extraction file. Writes the profile sections
 * `accounts`, `mail` and (if absent) the test patient in `patients`.
 */
export const SANDBOX_MAIL_DOMAIN = 'sandbox.mssante.fr';

/** The test patient (test NIR, qualified) known by the APP mailbox's receiving side. */
export const SANDBOX_PATIENT = {
  ins: '279035121518989',
  insOid: '1.2.250.1.213.1.4.10',
  insQualified: true,
  birthFamily: 'PAT-TROIS',
  birthGivens: 'DOMINIQUE MARIE-LOUISE',
  firstGiven: 'DOMINIQUE',
  gender: 'F',
  birthDate: '1979-03-28',
  birthPlace: '51215',
  ipp: '1234567890121',
  ippOid: '1.2.3.4.567.8.9.10',
} as const;

interface IdentityPki {
  caCert: string;
  caBundle?: string;
  crl?: string;
  serverCert: string;
  serverKey: string;
  org?: { authP12?: string; p12Password?: string };
}
export interface IdentityPsc {
  introspectionUrl?: string;
  introspectionClientId?: string;
  introspectionClientSecret?: string;
  practitioner?: { email?: string; lastName?: string; firstName?: string; nationalId?: string };
}

/**
 * Dovecot's `oauth2` passdb against the PSC provider: RFC 7662 introspection authenticated as the mail
 * server's confidential client, the mailbox chosen by the token's `email` claim.
 */
export function dovecotOauth2For(psc: IdentityPsc | undefined): { introspectionUrl: string; usernameAttribute: string; clientId?: string; clientSecret?: string } | undefined {
  if (!psc?.introspectionUrl) return undefined;
  return { introspectionUrl: psc.introspectionUrl, usernameAttribute: 'email', clientId: psc.introspectionClientId, clientSecret: psc.introspectionClientSecret };
}

function secret(): string {
  return `sbx-${Math.random().toString(36).slice(2, 10)}${Math.random().toString(36).slice(2, 10)}`;
}

export function directoryExtraction(accounts: { address: string; kind: string; family?: string; given?: string; nationalId?: string; profession?: string; org?: string }[]): string {
  const lines = accounts.map((a) =>
    [a.kind, a.address, a.nationalId ? '8' : '', a.nationalId?.slice(1) ?? '', a.nationalId ?? '', a.family ?? '', a.given ?? '', a.profession ?? '', '', a.org ?? 'CH DU BAC A SABLE', '51100', 'REIMS'].join('|'),
  );
  return [ANS_EXTRACTION_HEADER, ...lines].join('\n') + '\n';
}

export const mailSandboxService: SandboxService = {
  id: 'mail',
  title: 'Messagerie MSSanté (Dovecot + Postfix)',
  requires: { debian: ['dovecot-core', 'dovecot-imapd', 'dovecot-lmtpd', 'postfix', 'openssl'], binaries: ['dovecot', 'postfix', 'openssl'] },
  async start(ctx: SandboxContext) {
    const profile = ctx.profile as Record<string, unknown>;
    const dir = path.join(ctx.runDir, 'mail');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const idPki = profile.pki as IdentityPki | undefined;
    const psc = profile.psc as IdentityPsc | undefined;
    // TLS: the identity capability's sandbox PKI when present, else a local throw-away CA.
    const local = idPki ? undefined : ensureLocalMailPki(path.join(ctx.sandboxDir, 'mail-pki'));
    if (local) ctx.log('Messagerie : PKI du bac à sable absente, certificats de test locaux générés.');
    const anchors = idPki ? (idPki.caBundle ?? idPki.caCert) : local!.caCert;
    const serverCert = idPki ? idPki.serverCert : local!.serverCert;
    const serverKey = idPki ? idPki.serverKey : local!.serverKey;
    const crl = idPki?.crl;
    const appCert = idPki?.org?.authP12 ? { p12: idPki.org.authP12, p12Password: idPki.org.p12Password ?? '' } : { cert: local?.appClientCert ?? '', key: local?.appClientKey ?? '' };
    if (!idPki?.org?.authP12 && !local) throw new Error('no client certificate for the APP mailbox');

    const per1 = (psc?.practitioner?.email ?? `claire.durand@${SANDBOX_MAIL_DOMAIN}`).toLowerCase();
    const accounts = [
      { address: per1, kind: 'PER', displayName: `Dr ${psc?.practitioner?.firstName ?? 'Claire'} ${psc?.practitioner?.lastName ?? 'DURAND'}`, auth: 'psc', password: secret(), nationalId: psc?.practitioner?.nationalId ?? '899700012345', family: psc?.practitioner?.lastName ?? 'DURAND', given: psc?.practitioner?.firstName ?? 'Claire', profession: 'Médecin' },
      { address: `jean.dupont@${SANDBOX_MAIL_DOMAIN}`, kind: 'PER', displayName: 'Dr Jean DUPONT', auth: 'password', password: secret(), nationalId: '810001234567', family: 'DUPONT', given: 'Jean', profession: 'Médecin' },
      { address: `cardiologie.ch-sandbox@${SANDBOX_MAIL_DOMAIN}`, kind: 'ORG', displayName: 'Service de cardiologie — CH du bac à sable', auth: 'password', password: secret(), profession: undefined, family: undefined, given: undefined, nationalId: undefined },
      { address: `pfi.ch-sandbox@${SANDBOX_MAIL_DOMAIN}`, kind: 'APP', displayName: 'PFI — CH du bac à sable', auth: 'client-cert', password: secret(), profession: undefined, family: undefined, given: undefined, nationalId: undefined },
    ] as const;
    const ports = { imap: await ctx.freePort(), lmtp: await ctx.freePort(), submission: await ctx.freePort(), submissionApp: await ctx.freePort(), auth: await ctx.freePort() };
    const users: MailServerUser[] = accounts.map((a) => ({ address: a.address, password: a.password, requireClientCert: a.kind === 'APP' }));
    const running = await startMailServers({
      dir,
      host: ctx.host,
      ports,
      pki: { caCert: anchors, serverCert, serverKey, crl },
      domains: [SANDBOX_MAIL_DOMAIN, PATIENT_MAIL_DOMAIN],
      users,
      ...(dovecotOauth2For(psc) ? { oauth2: dovecotOauth2For(psc) } : {}),
      spawn: (name, command, args, opts) => ctx.spawn(name, command, args, opts),
      log: ctx.log,
    });
    const directoryFile = path.join(ctx.sandboxDir, 'mail', 'annuaire-mssante-extraction.txt');
    fs.mkdirSync(path.dirname(directoryFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(directoryFile, directoryExtraction(accounts.map((a) => ({ address: a.address, kind: a.kind, family: a.family, given: a.given, nationalId: a.nationalId, profession: a.profession }))));
    // The online FHIR annuaire of the sandbox (same people + online-only ones), profile section `directoryFhir`.
    const fhir = await startSandboxDirectoryFhir(ctx, { dir, accounts: [...accounts], domain: SANDBOX_MAIL_DOMAIN, caFile: anchors, serverCert, serverKey });
    profile.directoryFhir = fhir.section;
    profile.accounts = accounts.map((a) => ({
      address: a.address,
      kind: a.kind,
      displayName: a.displayName,
      imap: { host: ctx.host, port: ports.imap },
      smtp: { host: ctx.host, port: a.kind === 'APP' ? ports.submissionApp : ports.submission },
      auth: a.auth,
      // Sandbox-only test secret (passwd-file login); production accounts never carry one.
      password: a.password,
      ...(a.kind === 'APP' ? { clientCertificate: appCert } : {}),
    }));
    profile.mail = {
      domains: [SANDBOX_MAIL_DOMAIN, PATIENT_MAIL_DOMAIN],
      caFiles: [anchors],
      ...(crl ? { crlFiles: [crl] } : {}),
      pkiSource: idPki ? 'identity' : 'local',
      oauth2: psc?.introspectionUrl ? 'psc-introspection' : 'none',
      directoryFile,
      spoolDir: running.spoolDir,
      logs: running.logs,
    };
    const patients = (Array.isArray(profile.patients) ? profile.patients : []) as { ins?: string }[];
    if (!patients.some((p) => p.ins === SANDBOX_PATIENT.ins)) profile.patients = [...patients, { ...SANDBOX_PATIENT }];
    return { url: `imap://${ctx.host}:${ports.imap}`, ports: { ...ports, directoryFhir: fhir.port } };
  },
  cleanUp(profile) {
    // The mailboxes and the Postfix queue (sandbox test documents, the TLS key Postfix reads) when they lived in a
    // companion folder of the system temp dir (`spoolDirFor`): emptied at each start anyway, gone at `down`.
    removeSpoolCompanion((profile as { mail?: { spoolDir?: unknown } }).mail?.spoolDir);
  },
};
