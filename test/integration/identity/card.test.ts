import fs from 'node:fs';
import path from 'node:path';
import * as pkcs11 from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CardPinError, CardService } from '../../../src/main/identity/card/card-service';
import { softhsmModule } from '../../../src/main/identity/card/softhsm';
import { splitPem } from '../../../src/main/identity/certs';
import { signXades, verifyXmlSignature } from '../../../src/main/identity/signing/xml-signature';
import { TrustStore } from '../../../src/main/identity/tls/trust-store';
import { tempDir } from '../../support/tmp';
import { HAS_XMLSEC, xmlsecVerify } from '../../unit/identity/xmlsec';
import { testIdentity } from './fixtures';

describe.skipIf(!softhsmModule() || !HAS_XMLSEC)('CPS card over PKCS#11 (SoftHSM2 token shaped like a CPS)', () => {
  const tmp = tempDir('lps-card-');
  let fx: Awaited<ReturnType<typeof testIdentity>>;
  let card: CardService;

  beforeAll(async () => {
    fx = await testIdentity(tmp.dir);
    card = new CardService({ modulePath: fx.token.module, env: { SOFTHSM2_CONF: fx.token.softhsmConf }, pollMs: 100 });
  });
  afterAll(() => {
    card?.stop();
    tmp.cleanup();
  });

  it('reads the holder identity from the authentication certificate', () => {
    const s = card.status();
    expect(s).toMatchObject({ present: true, tokenLabel: 'CPS-TEST', pinState: 'ok', remainingTries: 3, loggedIn: false });
    expect(s.holder).toMatchObject({ nationalId: '899700012345', idType: '8', idTypeLabel: 'RPPS', lastName: 'DURAND', firstName: 'Claire', professionCode: '10', profession: 'Médecin' });
  });

  it('a wrong PIN costs exactly one C_Login, reports the remaining tries, and is never retried', () => {
    // Count the real module's C_Login calls (a spy on the loaded pkcs11js instance, not a mock).
    const spy = vi.spyOn((card as unknown as { lib: pkcs11.PKCS11 }).lib, 'C_Login');
    try {
      let err: unknown;
      try {
        card.login('0000');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CardPinError);
      expect(err).toMatchObject({ code: 'CARD_PIN_INCORRECT', remainingTries: 2, pinState: 'count-low' });
      expect((err as CardPinError).userMessage).toContain('Il reste 2 essai(s)');
      expect(spy).toHaveBeenCalledTimes(1);
      expect(card.status()).toMatchObject({ pinState: 'count-low', loggedIn: false });
      // A malformed PIN never reaches the card.
      expect(() => card.login('12a4')).toThrow(expect.objectContaining({ code: 'CARD_PIN_FORMAT' }));
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('logs in with the right PIN, signs XAdES on the card (CKM_SHA256_RSA_PKCS), verified by xmlsec1', async () => {
    expect(card.login(fx.pin)).toMatchObject({ loggedIn: true, pinState: 'ok' });
    const pool = splitPem(fs.readFileSync(fx.pki.caBundle, 'utf8'));
    const signed = await signXades('<compteRendu><texte>Examen normal</texte></compteRendu>', card.xmlSigner('sign', pool));
    const v = xmlsecVerify(signed, fx.pki.caCert);
    expect(v.ok, v.output).toBe(true);
    const ours = await verifyXmlSignature(signed, { trust: TrustStore.fromProfile(fx.pki) });
    expect(ours.valid).toBe(true);
    expect(ours.signer?.subject).toContain('CN=899700012345');
    expect(ours.signer?.subject).toContain('serialNumber=899700012345/S'); // the signature certificate, not the auth one
  });

  it('detects removal (session ended) and insertion without restart', async () => {
    card.start();
    const events: string[] = [];
    card.on('inserted', () => events.push('inserted'));
    card.on('removed', () => events.push('removed'));
    expect(card.status().loggedIn).toBe(true);
    const tokensDir = path.join(fx.token.softhsmConf, '..', 'tokens');
    const [tokenDir] = fs.readdirSync(tokensDir);
    const away = path.join(tmp.dir, 'pulled-out');
    fs.renameSync(path.join(tokensDir, tokenDir!), away);
    await vi.waitFor(() => expect(events).toEqual(['removed']), { timeout: 5000, interval: 50 });
    expect(card.status()).toMatchObject({ present: false, loggedIn: false });
    expect(() => card.sign(Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'CARD_NOT_LOGGED_IN' }));

    fs.renameSync(away, path.join(tokensDir, tokenDir!));
    await vi.waitFor(() => expect(events).toEqual(['removed', 'inserted']), { timeout: 5000, interval: 50 });
    expect(card.status()).toMatchObject({ present: true, loggedIn: false });
    card.stop();
  });
});
