import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MailPki } from './sandbox-pki';

/**
 * Private Dovecot + Postfix instances on loopback ports: the MSSanté "API LPS" of a test operator.
 *
 * - Dovecot: IMAP (STARTTLS required), LMTP (delivery from Postfix), an auth listener for Postfix SASL;
 *   passdbs: the APP mailboxes (password AND a client certificate verified against the CA), test logins
 *   (passwd-file), and `oauth2` validating PSC access tokens by introspection (XOAUTH2 / OAUTHBEARER).
 * - Postfix: a submission port (STARTTLS + Dovecot SASL) for PER/ORG mailboxes, a second submission port
 *   that requires a client certificate for the APP mailboxes, LMTP delivery into Dovecot, DSN support.
 *
 * Used by the sandbox service and by the integration tests (which start their own instance in a
 * temporary directory). Every process is started through the given `spawn` so its PID is recorded.
 */
export interface MailServerUser {
  address: string;
  password?: string;
  /** APP mailboxes log in with a password AND a valid client certificate (IMAP and SMTP). */
  requireClientCert?: boolean;
}

export interface MailServerPorts {
  imap: number;
  lmtp: number;
  submission: number;
  submissionApp: number;
  auth: number;
}

export interface MailServerOptions {
  /** Where configuration, mailboxes and logs go (created). */
  dir: string;
  host: string;
  ports: MailServerPorts;
  /** caCert: the anchors (PEM, may hold a whole chain) used to verify client certificates. */
  pki: Pick<MailPki, 'caCert' | 'serverCert' | 'serverKey' | 'crl'>;
  /** Mail domains delivered locally (the operator's domains, and the patient domain in the sandbox). */
  domains: string[];
  users: MailServerUser[];
  /** Token validation for XOAUTH2/OAUTHBEARER: Dovecot POSTs the token to this URL (RFC 7662). */
  oauth2?: { introspectionUrl: string; usernameAttribute?: string; clientId?: string; clientSecret?: string };
  spawn(name: string, command: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): number;
  /** Extra Dovecot configuration appended verbatim (tests: e.g. a capability list without IDLE). */
  dovecotExtra?: string;
  log?: (message: string) => void;
}

export interface RunningMailServers {
  pids: number[];
  dovecotConf: string;
  postfixConfDir: string;
  /** Postfix queue directory (outside `dir` when `dir` is not traversable by the postfix user). */
  queueDir: string;
  maildirRoot: string;
  /** Mailboxes + Postfix queue (see `spoolDirFor`). */
  spoolDir: string;
  logs: { dovecot: string; postfix: string };
}

/** `{SSHA256}` password scheme understood by Dovecot (salted SHA-256, base64 of hash ‖ salt). */
export function ssha256(password: string): string {
  const salt = randomBytes(8);
  const hash = createHash('sha256').update(password, 'utf8').update(salt).digest();
  return `{SSHA256}${Buffer.concat([hash, salt]).toString('base64')}`;
}

function uidGid(): { uid: number; gid: number; root: boolean } {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return { uid, gid, root: uid === 0 };
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

function caFileWithCrl(dir: string, pki: MailServerOptions['pki']): { file: string; requireCrl: boolean } {
  if (!pki.crl || !fs.existsSync(pki.crl)) return { file: pki.caCert, requireCrl: false };
  let crl = fs.readFileSync(pki.crl);
  if (!crl.toString('latin1').includes('-----BEGIN')) {
    crl = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', pki.crl, '-outform', 'PEM']);
  }
  const file = path.join(dir, 'ca-with-crl.pem');
  fs.writeFileSync(file, Buffer.concat([fs.readFileSync(pki.caCert), Buffer.from('\n'), crl]));
  return { file, requireCrl: true };
}

/** Postfix refuses whitespace in the paths of its configuration (the default data folder on Linux has one). */
const hasWhitespace = (p: string) => /\s/.test(p);

const SPOOL_COMPANION_PREFIX = 'lps-mail-spool-';

/**
 * Where the mailboxes and the Postfix queue live. Dovecot refuses to access mail as root and Postfix's
 * daemons run as `postfix`: as root, the spool must be reachable by those users. When `dir` sits in a
 * private (0700) tree, or its path has whitespace (which Postfix refuses), a companion folder in the system
 * temp dir is used (named after `dir`, recreated at each start; the sandbox records it in its profile).
 */
export function spoolDirFor(dir: string): string {
  const { root } = uidGid();
  if ((!root || traversable(dir)) && !hasWhitespace(dir)) return dir;
  const tag = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `${SPOOL_COMPANION_PREFIX}${tag}`);
}

/** Whether `spool` is such a companion folder of the system temp dir (never a folder of the data dir). */
export function isSpoolCompanion(spool: string): boolean {
  return path.dirname(spool) === os.tmpdir() && path.basename(spool).startsWith(SPOOL_COMPANION_PREFIX);
}

/** Removes the mail spool once its servers are stopped when it is such a companion folder (it goes with `dir` otherwise). */
export function removeSpoolCompanion(spool: unknown): void {
  if (typeof spool === 'string' && isSpoolCompanion(spool)) fs.rmSync(spool, { recursive: true, force: true });
}

export function writeDovecotConfig(opts: MailServerOptions, spool: string): string {
  const d = path.join(opts.dir, 'dovecot');
  const base = path.join(d, 'base');
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  const maildirs = path.join(spool, 'maildirs');
  fs.mkdirSync(maildirs, { recursive: true, mode: 0o700 });
  const { root } = uidGid();
  const { uid, gid } = root ? (userIds('dovecot') ?? { uid: 65534, gid: 65534 }) : uidGid();
  const users = opts.users.filter((u) => u.password && !u.requireClientCert);
  const apps = opts.users.filter((u) => u.password && u.requireClientCert);
  fs.writeFileSync(path.join(d, 'users.passwd'), users.map((u) => `${u.address.toLowerCase()}:${ssha256(u.password!)}\n`).join(''), { mode: 0o600 });
  // The key of an APP entry includes the certificate state: `valid/<address>` only matches when the
  // client presented a certificate that chains to the CA (Dovecot's %{cert}); SMTP goes through the
  // Postfix port that requires the certificate itself (service `smtp`).
  fs.writeFileSync(
    path.join(d, 'app.passwd'),
    apps.flatMap((u) => [`imap-valid/${u.address.toLowerCase()}:${ssha256(u.password!)}\n`, `smtp-/${u.address.toLowerCase()}:${ssha256(u.password!)}\n`]).join(''),
    { mode: 0o600 },
  );
  const ca = caFileWithCrl(d, opts.pki);
  const oauthConf = path.join(d, 'oauth2.conf.ext');
  if (opts.oauth2) {
    fs.writeFileSync(
      oauthConf,
      [
        `introspection_mode = post`,
        `introspection_url = ${opts.oauth2.introspectionUrl}`,
        `force_introspection = yes`,
        `username_attribute = ${opts.oauth2.usernameAttribute ?? 'username'}`,
        `username_format = %Lu`,
        `active_attribute = active`,
        `active_value = true`,
        `timeout_msecs = 5000`,
        ...(opts.oauth2.clientId ? [`client_id = ${opts.oauth2.clientId}`, `client_secret = ${opts.oauth2.clientSecret ?? ''}`] : []),
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }
  // Mail is accessed as the current user, or as `dovecot` when running as root (uid 0 is refused);
  // the auth process runs as root then, to read the passwd files in the private configuration folder.
  const mailIds = { uid, gid };
  const conf = `# Generated by the LPS mail sandbox — private Dovecot instance.
protocols = imap lmtp
listen = ${opts.host}
base_dir = ${base}
state_dir = ${path.join(d, 'state')}
instance_name = lps-${path.basename(opts.dir)}-${opts.ports.imap}
log_path = ${path.join(d, 'dovecot.log')}
info_log_path = ${path.join(d, 'dovecot.log')}
${root ? '' : `default_internal_user = ${os.userInfo().username}\ndefault_login_user = ${os.userInfo().username}\ndefault_internal_group = ${os.userInfo().username}\n`}
ssl = required
ssl_cert = <${opts.pki.serverCert}
ssl_key = <${opts.pki.serverKey}
ssl_ca = <${ca.file}
ssl_verify_client_cert = yes
ssl_require_crl = ${ca.requireCrl ? 'yes' : 'no'}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
auth_cache_size = 0
auth_verbose = yes
auth_username_chars = abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@+
mail_location = maildir:${maildirs}/%Lu
mail_uid = ${mailIds.uid}
mail_gid = ${mailIds.gid}
first_valid_uid = 0
mail_privileged_group =
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = username_format=%{service}-%{cert}/%Lu ${path.join(d, 'app.passwd')}
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = username_format=%Lu ${path.join(d, 'users.passwd')}
}
${opts.oauth2 ? `passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = ${oauthConf}\n}\n` : ''}
userdb {
  driver = static
  args = uid=${mailIds.uid} gid=${mailIds.gid} home=${maildirs}/%Lu allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    address = ${opts.host}
    port = ${opts.ports.imap}
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = ${opts.host}
    port = ${opts.ports.lmtp}
  }
  unix_listener lmtp {
    mode = 0600
  }
}
service auth {
${root ? '  user = root\n' : ''}  inet_listener auth-postfix {
    address = ${opts.host}
    port = ${opts.ports.auth}
  }
  unix_listener auth-client {
    mode = 0666
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol lmtp {
  postmaster_address = postmaster@${opts.domains[0]}
}
protocol imap {
  mail_max_userip_connections = 50
  imap_idle_notify_interval = 30 secs
}
${opts.dovecotExtra ?? ''}
`;
  const file = path.join(d, 'dovecot.conf');
  fs.writeFileSync(file, conf, { mode: 0o600 });
  if (root && mailIds.uid !== 0) {
    fs.chownSync(maildirs, mailIds.uid, mailIds.gid);
  }
  return file;
}

/** Postfix refuses to start unless its queue and every parent are reachable by the postfix user. */
function traversable(dir: string): boolean {
  let cur = path.resolve(dir);
  for (;;) {
    try {
      if ((fs.statSync(cur).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    const parent = path.dirname(cur);
    if (parent === cur) return true;
    cur = parent;
  }
}

export function writePostfixConfig(opts: MailServerOptions, spool: string): { confDir: string; queueDir: string; logFile: string } {
  // Postfix's own files (configuration, log, the TLS files it reads) on a path without whitespace: beside the
  // spool when `opts.dir` has some (the spool then never has: see `spoolDirFor`).
  const home = hasWhitespace(opts.dir) ? spool : opts.dir;
  const confDir = path.join(home, 'postfix');
  fs.mkdirSync(confDir, { recursive: true, mode: 0o755 });
  const tlsFile = (file: string, name: string, mode: number) => {
    if (!hasWhitespace(file)) return file;
    const copy = path.join(confDir, name);
    fs.copyFileSync(file, copy);
    fs.chmodSync(copy, mode);
    return copy;
  };
  const tls = { cert: tlsFile(opts.pki.serverCert, 'server.crt', 0o644), key: tlsFile(opts.pki.serverKey, 'server.key', 0o600), ca: tlsFile(opts.pki.caCert, 'ca.crt', 0o644) };
  const queueDir = path.join(spool, 'postfix-queue');
  fs.mkdirSync(queueDir, { recursive: true, mode: 0o755 });
  fs.chmodSync(queueDir, 0o755);
  const dataDir = path.join(queueDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(home, 'postfix.log');
  const { root } = uidGid();
  const pf = root ? userIds('postfix') : undefined;
  if (pf) fs.chownSync(dataDir, pf.uid, pf.gid);
  const apps = opts.users.filter((u) => u.requireClientCert).map((u) => u.address.toLowerCase());
  fs.writeFileSync(path.join(confDir, 'app-senders'), apps.map((a) => `${a} REJECT cette boîte applicative doit utiliser le port à certificat client\n`).join('') || '# none\n');
  fs.writeFileSync(path.join(confDir, 'sender-logins'), opts.users.map((u) => `${u.address.toLowerCase()} ${u.address.toLowerCase()}\n`).join(''));
  const main = `# Generated by the LPS mail sandbox — private Postfix instance.
compatibility_level = 3.6
meta_directory = /etc/postfix
queue_directory = ${queueDir}
data_directory = ${dataDir}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = ${opts.host}
inet_protocols = ipv4
myhostname = mail.${opts.domains[0]}
mydomain = ${opts.domains[0]}
myorigin = ${opts.domains[0]}
mydestination =
mynetworks =
local_recipient_maps =
local_transport = error:5.1.1 local delivery is disabled in the sandbox
default_transport = error:5.4.6 the sandbox does not relay outside its domains
relay_transport = error:5.4.6 the sandbox does not relay outside its domains
virtual_mailbox_domains = ${opts.domains.join(' ')}
virtual_mailbox_maps =
virtual_transport = lmtp:inet:${opts.host}:${opts.ports.lmtp}
maillog_file_prefixes = ${path.dirname(logFile)}
maillog_file = ${logFile}
smtputf8_enable = yes
message_size_limit = 52428800
biff = no
append_dot_mydomain = no
smtpd_banner = $myhostname ESMTP LPS sandbox
smtpd_tls_cert_file = ${tls.cert}
smtpd_tls_key_file = ${tls.key}
smtpd_tls_CAfile = ${tls.ca}
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_protocols = >=TLSv1.2
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:${opts.host}:${opts.ports.auth}
smtpd_sasl_auth_enable = yes
smtpd_sender_login_maps = texthash:${path.join(confDir, 'sender-logins')}
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
smtpd_client_restrictions = permit_sasl_authenticated, reject
smtp_tls_security_level = none
lmtp_tls_security_level = none
`;
  const master = `# Generated by the LPS mail sandbox.
${opts.host}:${opts.ports.submission} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sender_restrictions=reject_sender_login_mismatch,check_sender_access,texthash:${path.join(confDir, 'app-senders')},permit_sasl_authenticated,reject
${opts.host}:${opts.ports.submissionApp} inet n - n - - smtpd
  -o syslog_name=postfix/submission-app
  -o smtpd_tls_ask_ccert=yes
  -o smtpd_tls_req_ccert=yes
  -o smtpd_sender_restrictions=reject_sender_login_mismatch,permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       1       1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
  fs.writeFileSync(path.join(confDir, 'main.cf'), main);
  fs.writeFileSync(path.join(confDir, 'master.cf'), master);
  return { confDir, queueDir, logFile };
}

async function waitTcp(host: string, port: number, isAlive: () => boolean, timeoutMs = 15_000): Promise<void> {
  const net = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!isAlive()) throw new Error(`process died before listening on ${host}:${port}`);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return false;
  }
}

export async function startMailServers(opts: MailServerOptions): Promise<RunningMailServers> {
  fs.mkdirSync(opts.dir, { recursive: true });
  const spool = spoolDirFor(opts.dir);
  if (spool !== opts.dir) {
    fs.rmSync(spool, { recursive: true, force: true });
    fs.mkdirSync(spool, { recursive: true, mode: 0o711 });
  }
  const dovecotConf = writeDovecotConfig(opts, spool);
  const pf = writePostfixConfig(opts, spool);
  const pids: number[] = [];
  const dovecotPid = opts.spawn('dovecot', 'dovecot', ['-F', '-c', dovecotConf]);
  pids.push(dovecotPid);
  await waitTcp(opts.host, opts.ports.imap, () => alive(dovecotPid));
  await waitTcp(opts.host, opts.ports.lmtp, () => alive(dovecotPid));
  await waitTcp(opts.host, opts.ports.auth, () => alive(dovecotPid));
  // post-install creates the queue sub-directories with the right owners; then the master in the foreground.
  try {
    execFileSync('/usr/lib/postfix/sbin/post-install', [`config_directory=${pf.confDir}`, 'meta_directory=/etc/postfix', `queue_directory=${pf.queueDir}`, `data_directory=${path.join(pf.queueDir, 'data')}`, 'create-missing'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`postfix post-install failed: ${e.stderr?.toString().trim() || e.message}`);
  }
  // The master itself, in the foreground (-d: no detach, no new session), so that it and its children stay
  // in the process group recorded by the caller (`postfix start-fg` would setsid() and escape `down`).
  const postfixPid = opts.spawn('postfix', '/usr/lib/postfix/sbin/master', ['-d'], { env: { ...process.env, MAIL_CONFIG: pf.confDir } });
  pids.push(postfixPid);
  await waitTcp(opts.host, opts.ports.submission, () => alive(postfixPid));
  await waitTcp(opts.host, opts.ports.submissionApp, () => alive(postfixPid));
  return {
    pids,
    dovecotConf,
    postfixConfDir: pf.confDir,
    queueDir: pf.queueDir,
    maildirRoot: path.join(spool, 'maildirs'),
    spoolDir: spool,
    logs: { dovecot: path.join(opts.dir, 'dovecot', 'dovecot.log'), postfix: pf.logFile },
  };
}
