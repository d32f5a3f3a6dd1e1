import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as pkcs11 from 'pkcs11js';
import { AppError } from '../../core/errors';
import type { XmlSigner } from '../signing/signer';
import { parseHolderIdentity, type HolderIdentity } from './holder';
import { CPS_MAX_PIN_TRIES, pinStateFromFlags, pinStateMessage, type PinState } from './pin-state';

/** PKCS#11 session states (not exported by pkcs11js). */
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

export interface CardStatus {
  present: boolean;
  module: string;
  slotDescription?: string;
  tokenLabel?: string;
  serial?: string;
  holder?: HolderIdentity;
  pinState?: PinState;
  remainingTries?: number;
  pinWarning?: string;
  loggedIn: boolean;
}

/** A wrong PIN: carries what the UI shows (state and remaining tries). */
export class CardPinError extends AppError {
  constructor(
    code: 'CARD_PIN_INCORRECT' | 'CARD_PIN_LOCKED',
    readonly pinState: PinState,
    readonly remainingTries: number,
  ) {
    super(
      code,
      code === 'CARD_PIN_LOCKED'
        ? pinStateMessage('locked', 0)!
        : `Code PIN incorrect. Il reste ${remainingTries} essai(s)${remainingTries === 1 ? ' : attention, dernier essai avant blocage de la carte' : ''}.`,
      `${code} (${pinState}, ${remainingTries} left)`,
    );
  }
}

export interface CardServiceOptions {
  modulePath: string;
  /** Set in process.env before the module is initialised (SoftHSM reads SOFTHSM2_CONF at C_Initialize). */
  env?: Record<string, string>;
  /** Only tokens with this label (default: the first initialised token). */
  tokenLabel?: string;
  pollMs?: number;
  maxPinTries?: number;
}

interface CardCerts {
  auth?: { der: Buffer; id: Buffer };
  sign?: { der: Buffer; id: Buffer };
}

/**
 * The CPS card over PKCS#11 (pkcs11js). Watches readers (polling; the module is re-initialised while no card
 * is present so newly inserted tokens appear), emits `inserted` / `removed` / `changed`, logs in with ONE
 * C_Login per call (never retries), signs with CKM_SHA256_RSA_PKCS on the card, and ends the session when the
 * card goes away. The PIN is only passed through; it is never stored or logged.
 */
export class CardService extends EventEmitter {
  private lib?: pkcs11.PKCS11;
  private initialised = false;
  private slot?: Buffer;
  private tokenKey?: string;
  private session?: Buffer;
  private certs: CardCerts = {};
  private timer?: NodeJS.Timeout;
  private last: CardStatus;
  private busy = false;

  constructor(private readonly opts: CardServiceOptions) {
    super();
    this.last = { present: false, module: opts.modulePath, loggedIn: false };
  }

  /** Starts watching the readers. */
  start(): void {
    if (this.timer) return;
    this.poll();
    this.timer = setInterval(() => this.poll(), this.opts.pollMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closeSession();
    if (this.lib && this.initialised) {
      try {
        this.lib.C_Finalize();
      } catch {
        /* already finalised */
      }
    }
    this.initialised = false;
  }

  /** The current state (polls once if not watching). */
  status(): CardStatus {
    if (!this.timer) this.poll();
    return this.last;
  }

  /** One login attempt. Wrong PIN → CardPinError with the remaining tries; a locked card is never tried. */
  login(pin: string): CardStatus {
    if (!/^\d{4,8}$/.test(pin)) {
      // Not sent to the card: a malformed entry must not cost a try.
      throw new AppError('CARD_PIN_FORMAT', 'Le code PIN de la carte CPS est composé de 4 chiffres.', 'PIN format rejected before C_Login');
    }
    const status = this.status();
    if (!status.present || !this.slot) throw new AppError('CARD_ABSENT', "Aucune carte CPS n'est insérée dans le lecteur.", 'no token present');
    if (status.pinState === 'locked') throw new CardPinError('CARD_PIN_LOCKED', 'locked', 0);
    if (this.session && status.loggedIn) return status;
    const lib = this.module();
    const session = lib.C_OpenSession(this.slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    try {
      lib.C_Login(session, pkcs11.CKU_USER, pin);
    } catch (err) {
      lib.C_CloseSession(session);
      const code = (err as { code?: number }).code;
      const { pinState, remainingTries } = pinStateFromFlags(lib.C_GetTokenInfo(this.slot).flags, this.opts.maxPinTries ?? CPS_MAX_PIN_TRIES);
      if (code === pkcs11.CKR_PIN_LOCKED || pinState === 'locked') throw new CardPinError('CARD_PIN_LOCKED', 'locked', 0);
      if (code === pkcs11.CKR_PIN_INCORRECT || code === pkcs11.CKR_PIN_INVALID || code === pkcs11.CKR_PIN_LEN_RANGE) {
        this.refresh();
        throw new CardPinError('CARD_PIN_INCORRECT', pinState === 'ok' ? 'count-low' : pinState, pinState === 'ok' ? (this.opts.maxPinTries ?? CPS_MAX_PIN_TRIES) - 1 : remainingTries);
      }
      throw new AppError('CARD_ERROR', 'La carte CPS a renvoyé une erreur pendant la saisie du code PIN.', (err as Error).message);
    }
    this.session = session;
    this.refresh();
    this.emit('changed', this.last);
    return this.last;
  }

  logout(): void {
    const had = !!this.session;
    this.closeSession();
    if (had) {
      this.refresh();
      this.emit('changed', this.last);
    }
  }

  /** The authentication / signature certificate (DER) of the present card. */
  certificate(which: 'auth' | 'sign'): Buffer {
    this.status();
    const c = this.certs[which];
    if (!c) throw new AppError('CARD_NO_CERTIFICATE', `La carte ne contient pas de certificat ${which === 'auth' ? "d'authentification" : 'de signature'}.`, `no ${which} certificate`);
    return c.der;
  }

  /** CKM_SHA256_RSA_PKCS (or SHA1) with the card key; requires a logged-in session. */
  sign(data: Uint8Array, which: 'auth' | 'sign' = 'sign', hash: 'SHA-256' | 'SHA-1' = 'SHA-256'): Buffer {
    const lib = this.module();
    if (!this.session) throw new AppError('CARD_NOT_LOGGED_IN', 'Saisissez le code PIN de la carte CPS pour signer.', 'no logged-in session');
    const id = this.certs[which]?.id;
    if (!id) throw new AppError('CARD_NO_CERTIFICATE', 'La clé de la carte est introuvable.', `no ${which} key id`);
    const key = this.findObject(this.session, [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
      { type: pkcs11.CKA_ID, value: id },
    ]);
    if (!key) throw new AppError('CARD_NO_KEY', 'La clé privée de la carte est introuvable.', `no private key with id ${id.toString('hex')}`);
    const mechanism = hash === 'SHA-1' ? pkcs11.CKM_SHA1_RSA_PKCS : pkcs11.CKM_SHA256_RSA_PKCS;
    try {
      lib.C_SignInit(this.session, { mechanism }, key);
      return Buffer.from(lib.C_Sign(this.session, Buffer.from(data), Buffer.alloc(1024)));
    } catch (err) {
      this.poll(); // a removed card ends the session
      throw new AppError('CARD_SIGN_FAILED', 'La signature avec la carte CPS a échoué. Vérifiez que la carte est insérée.', (err as Error).message);
    }
  }

  /** An XML signer whose key stays on the card (WebCrypto facade: only `sign` goes to the card). */
  xmlSigner(which: 'auth' | 'sign' = 'sign', caPool: string[] = []): XmlSigner {
    const leaf = this.certificate(which);
    const holder = this.last.holder;
    return cardXmlSigner(this, which, [leaf, ...issuerChain(leaf, caPool)], `CPS ${holder?.lastName ?? ''} ${holder?.firstName ?? ''}`.trim());
  }

  // ---------------------------------------------------------------------------------------------

  private module(): pkcs11.PKCS11 {
    if (this.lib && this.initialised) return this.lib;
    for (const [k, v] of Object.entries(this.opts.env ?? {})) process.env[k] = v;
    if (!this.lib) {
      const lib = new pkcs11.PKCS11();
      try {
        lib.load(this.opts.modulePath);
      } catch (err) {
        throw new AppError('CARD_MODULE_MISSING', `La bibliothèque de la carte CPS n'a pas pu être chargée : ${this.opts.modulePath}.`, (err as Error).message);
      }
      this.lib = lib;
    }
    try {
      this.lib.C_Initialize();
    } catch (err) {
      if ((err as { code?: number }).code !== pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw new AppError('CARD_MODULE_ERROR', "La bibliothèque de la carte CPS n'a pas pu être initialisée.", (err as Error).message);
      }
    }
    this.initialised = true;
    return this.lib;
  }

  /** Reinitialises the module (new tokens become visible with middlewares that snapshot slots). */
  private rescan(): void {
    if (this.lib && this.initialised && !this.session) {
      try {
        this.lib.C_Finalize();
      } catch {
        /* ignore */
      }
      this.initialised = false;
    }
  }

  private poll(): void {
    if (this.busy) return;
    this.busy = true;
    try {
      const before = this.last;
      if (!this.last.present) this.rescan();
      this.refresh();
      if (!before.present && this.last.present) this.emit('inserted', this.last);
      else if (before.present && !this.last.present) this.emit('removed', before);
      else if (before.present && this.last.present && (before.serial !== this.last.serial || before.tokenLabel !== this.last.tokenLabel)) {
        this.emit('removed', before);
        this.emit('inserted', this.last);
      }
    } catch (err) {
      this.emit('error', err);
    } finally {
      this.busy = false;
    }
  }

  private refresh(): void {
    const lib = this.module();
    const found = this.findToken(lib);
    if (!found) {
      if (this.last.present || this.session) this.closeSession();
      this.slot = undefined;
      this.tokenKey = undefined;
      this.certs = {};
      this.last = { present: false, module: this.opts.modulePath, loggedIn: false };
      return;
    }
    const { slot, info, slotDescription } = found;
    const key = `${info.label.trim()}|${info.serialNumber.trim()}`;
    if (key !== this.tokenKey) {
      this.closeSession();
      this.slot = slot;
      this.tokenKey = key;
      this.certs = this.readCertificates(lib, slot);
    }
    const pin = pinStateFromFlags(info.flags, this.opts.maxPinTries ?? CPS_MAX_PIN_TRIES);
    let loggedIn = false;
    if (this.session) {
      try {
        const s = lib.C_GetSessionInfo(this.session);
        loggedIn = s.state === CKS_RW_USER_FUNCTIONS || s.state === CKS_RO_USER_FUNCTIONS;
      } catch {
        this.session = undefined;
      }
    }
    const authDer = this.certs.auth?.der ?? this.certs.sign?.der;
    const holder = authDer ? parseHolderIdentity(new X509Certificate(authDer)) : undefined;
    const warning = pinStateMessage(pin.pinState, pin.remainingTries);
    this.last = {
      present: true,
      module: this.opts.modulePath,
      slotDescription,
      tokenLabel: info.label.trim(),
      serial: info.serialNumber.trim(),
      ...(holder ? { holder } : {}),
      pinState: pin.pinState,
      remainingTries: pin.remainingTries,
      ...(warning ? { pinWarning: warning } : {}),
      loggedIn,
    };
  }

  private findToken(lib: pkcs11.PKCS11): { slot: Buffer; info: pkcs11.TokenInfo; slotDescription: string } | undefined {
    let slots: Buffer[];
    try {
      slots = lib.C_GetSlotList(true);
    } catch {
      return undefined;
    }
    for (const slot of slots) {
      try {
        const info = lib.C_GetTokenInfo(slot);
        if (!(info.flags & pkcs11.CKF_TOKEN_INITIALIZED)) continue;
        if (this.opts.tokenLabel && info.label.trim() !== this.opts.tokenLabel) continue;
        const slotDescription = lib.C_GetSlotInfo(slot).slotDescription.trim();
        return { slot, info, slotDescription };
      } catch {
        /* token removed while reading: treat as absent */
      }
    }
    return undefined;
  }

  private readCertificates(lib: pkcs11.PKCS11, slot: Buffer): CardCerts {
    const session = lib.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION);
    try {
      const out: CardCerts = {};
      lib.C_FindObjectsInit(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_CERTIFICATE }]);
      const handles = lib.C_FindObjects(session, 16);
      lib.C_FindObjectsFinal(session);
      for (const h of handles) {
        const attrs = lib.C_GetAttributeValue(session, h, [{ type: pkcs11.CKA_VALUE }, { type: pkcs11.CKA_ID }]);
        const der = attrs[0]?.value as Buffer | undefined;
        const id = attrs[1]?.value as Buffer | undefined;
        if (!der || !id) continue;
        const cert = new X509Certificate(der);
        // The authentication certificate is the one for TLS client auth; the other one signs.
        const isAuth = (cert.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.2');
        if (isAuth && !out.auth) out.auth = { der, id };
        else if (!isAuth && !out.sign) out.sign = { der, id };
      }
      return out;
    } finally {
      lib.C_CloseSession(session);
    }
  }

  private findObject(session: Buffer, template: pkcs11.Template): Buffer | undefined {
    const lib = this.module();
    lib.C_FindObjectsInit(session, template);
    const [h] = lib.C_FindObjects(session, 1);
    lib.C_FindObjectsFinal(session);
    return h;
  }

  private closeSession(): void {
    if (this.session && this.lib) {
      try {
        this.lib.C_Logout(this.session);
      } catch {
        /* not logged in / card gone */
      }
      try {
        this.lib.C_CloseSession(this.session);
      } catch {
        /* card gone */
      }
    }
    this.session = undefined;
  }
}

/** The intermediates (from a CA pool, e.g. the trust store bundle) above a leaf, roots excluded. */
export function issuerChain(leafDer: Uint8Array, caPool: string[]): Uint8Array[] {
  const pool = caPool.map((p) => new X509Certificate(p));
  const out: Uint8Array[] = [];
  let current = new X509Certificate(Buffer.from(leafDer));
  for (let i = 0; i < 8; i++) {
    const issuer = pool.find((c) => current.checkIssued(c) && current.verify(c.publicKey) && c.fingerprint256 !== current.fingerprint256);
    if (!issuer || issuer.checkIssued(issuer)) break;
    out.push(new Uint8Array(issuer.raw));
    current = issuer;
  }
  return out;
}

/**
 * A minimal WebCrypto facade for xmldsigjs/xadesjs: digests and public-key operations go to Node's
 * WebCrypto; `sign` with the card key goes to the card (CKM_SHA256_RSA_PKCS), the key never leaves it.
 */
export function cardXmlSigner(card: Pick<CardService, 'sign'>, which: 'auth' | 'sign', chainDer: Uint8Array[], label: string): XmlSigner {
  const node = globalThis.crypto as Crypto;
  const keyFor = (hash: 'SHA-256' | 'SHA-1') =>
    ({ type: 'private', extractable: false, algorithm: { name: 'RSASSA-PKCS1-v1_5', hash: { name: hash } }, usages: ['sign'], __card: { which, hash } }) as unknown as CryptoKey;
  const subtle = new Proxy(node.subtle, {
    get(target, prop, receiver) {
      if (prop === 'sign') {
        return async (alg: AlgorithmIdentifier, key: CryptoKey, data: BufferSource) => {
          const card = (key as unknown as { __card?: { which: 'auth' | 'sign'; hash: 'SHA-256' | 'SHA-1' } }).__card;
          if (!card) return target.sign(alg, key, data);
          const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
          const sig = cardSign(bytes, card.which, card.hash);
          return sig.buffer.slice(sig.byteOffset, sig.byteOffset + sig.byteLength);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const cardSign = (data: Uint8Array, w: 'auth' | 'sign', hash: 'SHA-256' | 'SHA-1') => card.sign(data, w, hash);
  const crypto = { subtle, getRandomValues: node.getRandomValues.bind(node), randomUUID: node.randomUUID.bind(node) } as unknown as Crypto;
  return { label, crypto, privateKey: async (hash) => keyFor(hash), certificateChain: chainDer };
}
