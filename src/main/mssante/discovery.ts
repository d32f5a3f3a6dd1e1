import dns from 'node:dns/promises';
import net from 'node:net';
import { AppError } from '../core/errors';
import { parseXml } from '../xml/safe-xml';
import { DEFAULT_MSSANTE_DOMAINS } from './wire-profile';

/**
 * Server discovery for an MSSanté address: the configured domain table first, then Thunderbird autoconfig
 * (`https://autoconfig.<domain>/mail/config-v1.1.xml`). A PSC token is a bearer credential: it is only
 * ever sent to a host that belongs to an MSSanté domain, is not a literal IP and does not resolve to a
 * private, loopback or link-local address. A host the user typed freely is never trusted with a token.
 */
export interface ServerEndpoints {
  imap: { host: string; port: number };
  smtp: { host: string; port: number };
  source: 'table' | 'autoconfig';
}

export interface DiscoveryOptions {
  /** domain → endpoints, from the configuration (trusted as is). */
  domainTable?: Record<string, { imap: { host: string; port: number }; smtp: { host: string; port: number } }>;
  allowedDomains?: string[];
  fetchText?: (url: string) => Promise<string>;
  resolve?: (host: string) => Promise<string[]>;
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) throw new AppError('MSS_ADDRESS_INVALID', "Cette adresse de messagerie n'est pas valide.", address);
  return address.slice(at + 1).toLowerCase();
}

export function isMssanteDomain(domain: string, allowed: string[] = DEFAULT_MSSANTE_DOMAINS): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  return allowed.some((a) => d === a.toLowerCase() || d.endsWith(`.${a.toLowerCase()}`));
}

export function isPrivateAddress(ip: string): boolean {
  if (net.isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  if (net.isIPv6(ip)) {
    const l = ip.toLowerCase();
    if (l === '::1' || l === '::') return true;
    if (l.startsWith('fc') || l.startsWith('fd') || l.startsWith('fe8') || l.startsWith('fe9') || l.startsWith('fea') || l.startsWith('feb')) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(l);
    return mapped ? isPrivateAddress(mapped[1]!) : false;
  }
  return true;
}

/** Throws unless a bearer token may be sent to `host` (discovered, not configured). */
export async function assertTokenHostAllowed(host: string, opts: DiscoveryOptions = {}): Promise<void> {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (net.isIP(h.replace(/^\[|\]$/g, ''))) {
    throw new AppError('MSS_HOST_REFUSED', "Le serveur proposé n'est pas un serveur MSSanté reconnu : le jeton de connexion ne lui sera pas envoyé.", `literal IP refused: ${host}`);
  }
  if (!isMssanteDomain(h, opts.allowedDomains)) {
    throw new AppError('MSS_HOST_REFUSED', "Le serveur proposé n'est pas un serveur MSSanté reconnu : le jeton de connexion ne lui sera pas envoyé.", `not an MSSanté domain: ${host}`);
  }
  const addresses = await (opts.resolve ?? defaultResolve)(h);
  const bad = addresses.find(isPrivateAddress);
  if (!addresses.length || bad) {
    throw new AppError('MSS_HOST_REFUSED', "Le serveur proposé n'est pas un serveur MSSanté reconnu : le jeton de connexion ne lui sera pas envoyé.", `${host} resolves to ${bad ?? 'nothing'}`);
  }
}

async function defaultResolve(host: string): Promise<string[]> {
  const r = await dns.lookup(host, { all: true });
  return r.map((x) => x.address);
}

function parseAutoconfig(xml: string): { imap?: { host: string; port: number; socketType: string }; smtp?: { host: string; port: number; socketType: string } } {
  const doc = parseXml(xml, 'autoconfig');
  const pick = (tag: string, type: string) => {
    const nodes = doc.getElementsByTagName(tag);
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes.item(i)!;
      if (n.getAttribute('type') !== type) continue;
      const text = (name: string) => n.getElementsByTagName(name).item(0)?.textContent?.trim() ?? '';
      return { host: text('hostname'), port: Number(text('port')), socketType: text('socketType') };
    }
    return undefined;
  };
  return { imap: pick('incomingServer', 'imap'), smtp: pick('outgoingServer', 'smtp') };
}

export async function discoverServers(address: string, opts: DiscoveryOptions = {}): Promise<ServerEndpoints> {
  const domain = domainOf(address);
  if (!isMssanteDomain(domain, opts.allowedDomains)) {
    throw new AppError('MSS_DOMAIN_NOT_ALLOWED', "Cette adresse n'appartient pas à l'espace de confiance MSSanté.", `domain ${domain} is not on the MSSanté list`);
  }
  const configured = opts.domainTable?.[domain];
  if (configured) return { ...configured, source: 'table' };
  if (!opts.fetchText) {
    throw new AppError('MSS_DISCOVERY_FAILED', "Le serveur de messagerie de ce domaine n'a pas pu être trouvé.", `no table entry and no autoconfig for ${domain}`);
  }
  let xml: string;
  try {
    xml = await opts.fetchText(`https://autoconfig.${domain}/mail/config-v1.1.xml`);
  } catch (err) {
    throw new AppError('MSS_DISCOVERY_FAILED', "Le serveur de messagerie de ce domaine n'a pas pu être trouvé.", `autoconfig ${domain}: ${(err as Error).message}`);
  }
  const found = parseAutoconfig(xml);
  if (!found.imap?.host || !found.smtp?.host || !found.imap.port || !found.smtp.port) {
    throw new AppError('MSS_DISCOVERY_FAILED', "La configuration publiée par ce domaine est incomplète.", `autoconfig ${domain}: imap/smtp missing`);
  }
  if (found.imap.socketType.toUpperCase() !== 'STARTTLS' || found.smtp.socketType.toUpperCase() !== 'STARTTLS') {
    throw new AppError('MSS_DISCOVERY_FAILED', "La configuration publiée par ce domaine n'utilise pas STARTTLS.", `autoconfig ${domain}: socketType ${found.imap.socketType}/${found.smtp.socketType}`);
  }
  await assertTokenHostAllowed(found.imap.host, opts);
  await assertTokenHostAllowed(found.smtp.host, opts);
  return { imap: { host: found.imap.host, port: found.imap.port }, smtp: { host: found.smtp.host, port: found.smtp.port }, source: 'autoconfig' };
}
