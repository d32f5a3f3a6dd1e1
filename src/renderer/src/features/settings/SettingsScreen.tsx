import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type { ConfigView, DirectoryOnlineView, MailAccount } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field } from '../../components/Field';
import { Empty, Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDate } from '../../format';
import { useApp } from '../../store/app';

const SECTIONS = [
  ['settings-profile', 'Profil'],
  ['settings-mail', 'Messagerie'],
  ['settings-card', 'Carte CPS'],
  ['settings-dmp', 'DMP et certificats'],
  ['settings-trust', 'Confiance'],
  ['settings-psc', 'Pro Santé Connect'],
  ['settings-directory', 'Annuaire'],
  ['settings-about', 'À propos'],
] as const;

/** Saves one form: the server validates; its French message is shown next to the form. */
function useSave<T = ConfigView>(onSaved: (v: T) => void) {
  const [error, setError] = useState<ApiError>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);
  const run = async (label: string, call: () => Promise<T>) => {
    setBusy(true);
    setError(undefined);
    setSaved(undefined);
    try {
      onSaved(await call());
      setSaved(label);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  const feedback = (
    <>
      {error ? <ErrorNotice error={error} /> : null}
      {saved ? (
        <div className="notice notice-success" role="status">
          <p className="notice-title">{saved}</p>
        </div>
      ) : null}
    </>
  );
  return { run, busy, feedback };
}

export function SettingsScreen() {
  const [config, setConfig] = useState<ConfigView>();
  const [error, setError] = useState<ApiError>();
  const load = () => {
    setError(undefined);
    lps.invoke('config.get', {}).then(setConfig, (e) => setError(toApiError(e)));
  };
  useEffect(load, []);

  return (
    <section aria-labelledby="settings-title" className="settings">
      <h1 id="settings-title">Paramètres</h1>
      <nav aria-label="Rubriques des paramètres" className="settings-toc">
        {SECTIONS.map(([id, label]) => (
          <a key={id} href={`#${id}`}>
            {label}
          </a>
        ))}
      </nav>
      {error ? <ErrorNotice error={error} onRetry={load} /> : null}
      <ProfileSection />
      <MailSection />
      {!config && !error ? <Loading label="Lecture des paramètres…" /> : null}
      {config ? (
        <>
          <CardSection config={config} onSaved={setConfig} />
          <DmpSection config={config} onSaved={setConfig} />
          <TrustSection config={config} onSaved={setConfig} />
          <PscSection config={config} onSaved={setConfig} />
        </>
      ) : null}
      <DirectorySection />
      <AboutSection config={config} onSaved={setConfig} />
    </section>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section id={id} aria-labelledby={`${id}-title`} className="panel settings-section">
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

function ProfileSection() {
  const { profile, load } = useApp();
  const [error, setError] = useState<ApiError>();
  const choose = async (p: 'sandbox' | 'production') => {
    setError(undefined);
    try {
      await lps.invoke('profile.choose', { profile: p });
      await load();
    } catch (e) {
      setError(toApiError(e));
    }
  };
  return (
    <Section id="settings-profile" title="Profil">
      <fieldset className="choices">
        <legend>Services utilisés</legend>
        <label>
          <input type="radio" name="profile" checked={profile?.active === 'sandbox'} onChange={() => void choose('sandbox')} />
          Bac à sable — services de test locaux (DMP de test, messagerie, PACS, Pro Santé Connect, carte CPS de test)
        </label>
        <label>
          <input type="radio" name="profile" checked={profile?.active === 'production'} onChange={() => void choose('production')} />
          Production — services nationaux (nécessite une configuration)
        </label>
      </fieldset>
      {profile ? (
        <p className="muted" data-testid="settings-profile-state">
          Profil actif : <strong>{profile.active === 'sandbox' ? 'bac à sable' : 'production'}</strong>
          {profile.active === 'sandbox' ? (profile.sandboxRunning ? ' — bac à sable démarré.' : ' — bac à sable arrêté (lancez « lps sandbox up »).') : '.'}
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
    </Section>
  );
}

const KIND_LABELS: Record<MailAccount['kind'], string> = { PER: 'Personnelle', ORG: 'Organisationnelle', APP: 'Applicative' };
const AUTH_LABELS: Record<MailAccount['auth'], string> = { psc: 'Pro Santé Connect', password: 'Mot de passe (test)', 'client-cert': 'Certificat de la structure' };

function MailSection() {
  const [accounts, setAccounts] = useState<MailAccount[]>();
  const [error, setError] = useState<ApiError>();
  const load = () => {
    setError(undefined);
    lps.invoke('mssante.accounts.list', {}).then(setAccounts, (e) => setError(toApiError(e)));
  };
  useEffect(load, []);
  return (
    <Section id="settings-mail" title="Boîtes aux lettres MSSanté">
      {error ? <ErrorNotice error={error} onRetry={load} /> : null}
      {!accounts && !error ? <Loading label="Lecture des boîtes aux lettres…" /> : null}
      {accounts && accounts.length === 0 ? (
        <Empty title="Aucune boîte aux lettres configurée.">
          <p>En bac à sable, démarrez les services de test (« lps sandbox up ») ; en production, les boîtes viennent de la configuration de la structure.</p>
        </Empty>
      ) : null}
      {accounts && accounts.length > 0 ? (
        <table className="table" data-testid="settings-accounts">
          <caption className="sr-only">Boîtes aux lettres du profil actif</caption>
          <thead>
            <tr>
              <th scope="col">Adresse</th>
              <th scope="col">Type</th>
              <th scope="col">Authentification</th>
              <th scope="col">Serveurs</th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <tr key={a.address}>
                <td>
                  <code>{a.address}</code>
                  {a.displayName ? <div className="muted">{a.displayName}</div> : null}
                </td>
                <td>{KIND_LABELS[a.kind]}</td>
                <td>{AUTH_LABELS[a.auth]}</td>
                <td className="muted">
                  IMAP {a.imap.host}:{a.imap.port} · SMTP {a.smtp.host}:{a.smtp.port}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

const PKCS11_SOURCE: Record<ConfigView['pkcs11']['source'], string> = {
  sandbox: 'carte de test du bac à sable',
  setting: 'chemin indiqué ci-dessous',
  default: 'emplacement par défaut du logiciel Cryptolib CPS',
  missing: 'introuvable',
};

function CardSection({ config, onSaved }: { config: ConfigView; onSaved: (v: ConfigView) => void }) {
  const [module, setModule] = useState(config.pkcs11.module ?? '');
  const { run, busy, feedback } = useSave(onSaved);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run('Bibliothèque de la carte enregistrée.', () => lps.invoke('config.pkcs11.set', { module: module.trim() || null }));
  };
  return (
    <Section id="settings-card" title="Carte CPS (PKCS#11)">
      <p>
        Bibliothèque utilisée : {config.pkcs11.effective ? <code>{config.pkcs11.effective}</code> : <StatusBadge tone="error">aucune</StatusBadge>}{' '}
        <span className="muted">({PKCS11_SOURCE[config.pkcs11.source]})</span>
      </p>
      {config.pkcs11.problem ? (
        <div className="notice notice-warning" role="status">
          <p className="notice-title">{config.pkcs11.problem}</p>
        </div>
      ) : null}
      <form onSubmit={submit}>
        <Field id="pkcs11-module" label="Chemin de la bibliothèque PKCS#11 du logiciel de la carte" help="Laissez vide pour l’emplacement par défaut (Cryptolib CPS). Exemple : /usr/lib64/libcps3_pkcs11_lux.so">
          <input id="pkcs11-module" value={module} onChange={(e) => setModule(e.target.value)} spellCheck={false} aria-describedby="pkcs11-module-help" />
        </Field>
        <button type="submit" className="button" disabled={busy}>
          Enregistrer
        </button>
      </form>
      {feedback}
    </Section>
  );
}

function CertSummary({ label, cert }: { label: string; cert: ConfigView['dmp']['auth'] }) {
  if (!cert) return null;
  return (
    <div className="facts-row">
      <dt>{label}</dt>
      <dd>
        {cert.subject} <StatusBadge tone={cert.expired ? 'error' : 'success'}>{cert.expired ? 'expiré' : `valide jusqu’au ${formatDate(cert.notAfter)}`}</StatusBadge>
      </dd>
    </div>
  );
}

function DmpSection({ config, onSaved }: { config: ConfigView; onSaved: (v: ConfigView) => void }) {
  const [url, setUrl] = useState(config.dmp.url ?? '');
  const [authP12, setAuth] = useState(config.dmp.authP12 ?? '');
  const [signP12, setSign] = useState(config.dmp.signP12 ?? '');
  const [password, setPassword] = useState('');
  const { run, busy, feedback } = useSave(onSaved);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const pw = password;
    setPassword(''); // the password goes to main once and is never shown back
    void run('Accès au DMP enregistré ; le mot de passe est chiffré sur ce poste.', () =>
      lps.invoke('config.dmp.set', { url, authP12, signP12, ...(pw ? { password: pw } : {}) }),
    );
  };
  return (
    <Section id="settings-dmp" title="DMP et certificats de la structure">
      {config.sandbox.running && config.sandbox.dmpUrl ? (
        <p className="muted">
          En bac à sable, le DMP de test (<code>{config.sandbox.dmpUrl}</code>) et les certificats de test de la structure sont fournis
          automatiquement. Les valeurs ci-dessous servent au profil de production.
        </p>
      ) : null}
      <form onSubmit={submit}>
        <div className="form-grid">
          <Field id="dmp-url" label="Adresse du service DMP (https)">
            <input id="dmp-url" value={url} onChange={(e) => setUrl(e.target.value)} spellCheck={false} placeholder="https://…" />
          </Field>
          <Field id="dmp-auth" label="Certificat d’authentification (.p12)">
            <input id="dmp-auth" value={authP12} onChange={(e) => setAuth(e.target.value)} spellCheck={false} />
          </Field>
          <Field id="dmp-sign" label="Certificat de signature (.p12)">
            <input id="dmp-sign" value={signP12} onChange={(e) => setSign(e.target.value)} spellCheck={false} />
          </Field>
          <Field id="dmp-password" label="Mot de passe des certificats" help={config.dmp.passwordSet ? 'Un mot de passe est enregistré (chiffré). Laissez vide pour le conserver.' : 'Vérifié à l’enregistrement, conservé chiffré, jamais réaffiché.'}>
            <input id="dmp-password" type="password" autoComplete="off" value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby="dmp-password-help" />
          </Field>
        </div>
        <button type="submit" className="button" disabled={busy}>
          Vérifier et enregistrer
        </button>
      </form>
      {config.dmp.auth || config.dmp.sign ? (
        <dl className="facts">
          <CertSummary label="Authentification" cert={config.dmp.auth} />
          <CertSummary label="Signature" cert={config.dmp.sign} />
        </dl>
      ) : null}
      {feedback}
    </Section>
  );
}

const lines = (t: string) =>
  t
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

function TrustSection({ config, onSaved }: { config: ConfigView; onSaved: (v: ConfigView) => void }) {
  const [ca, setCa] = useState(config.trust.caFiles.join('\n'));
  const [crl, setCrl] = useState(config.trust.crlFiles.join('\n'));
  const { run, busy, feedback } = useSave(onSaved);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run('Magasin de confiance enregistré.', () => lps.invoke('config.trust.set', { caFiles: lines(ca), crlFiles: lines(crl) }));
  };
  return (
    <Section id="settings-trust" title="Magasin de confiance">
      <p className="muted">
        Autorités de certification reconnues pour vérifier les serveurs (IGC Santé en production). La vérification des certificats ne
        peut pas être désactivée.
        {config.sandbox.caCert ? (
          <>
            {' '}
            Bac à sable : <code>{config.sandbox.caCert}</code>.
          </>
        ) : null}
      </p>
      <form onSubmit={submit}>
        <div className="form-grid">
          <Field id="trust-ca" label="Certificats d’autorité (un fichier par ligne)">
            <textarea id="trust-ca" rows={3} value={ca} onChange={(e) => setCa(e.target.value)} spellCheck={false} />
          </Field>
          <Field id="trust-crl" label="Listes de révocation (CRL, un fichier par ligne)">
            <textarea id="trust-crl" rows={3} value={crl} onChange={(e) => setCrl(e.target.value)} spellCheck={false} />
          </Field>
        </div>
        <button type="submit" className="button" disabled={busy}>
          Vérifier et enregistrer
        </button>
      </form>
      {feedback}
    </Section>
  );
}

function PscSection({ config, onSaved }: { config: ConfigView; onSaved: (v: ConfigView) => void }) {
  const [issuer, setIssuer] = useState(config.psc.issuer ?? '');
  const [clientId, setClientId] = useState(config.psc.clientId ?? '');
  const [secret, setSecret] = useState('');
  const { run, busy, feedback } = useSave(onSaved);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const s = secret;
    setSecret('');
    void run('Inscription Pro Santé Connect enregistrée.', () => lps.invoke('config.psc.set', { issuer, clientId, ...(s ? { clientSecret: s } : {}) }));
  };
  return (
    <Section id="settings-psc" title="Pro Santé Connect (production)">
      {config.sandbox.pscIssuer ? (
        <p className="muted">
          Bac à sable : fournisseur de test <code>{config.sandbox.pscIssuer}</code>.
        </p>
      ) : null}
      <form onSubmit={submit}>
        <div className="form-grid">
          <Field id="psc-issuer" label="Adresse du fournisseur (issuer)">
            <input id="psc-issuer" value={issuer} onChange={(e) => setIssuer(e.target.value)} spellCheck={false} placeholder="https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet" />
          </Field>
          <Field id="psc-client" label="Identifiant client">
            <input id="psc-client" value={clientId} onChange={(e) => setClientId(e.target.value)} spellCheck={false} />
          </Field>
          <Field id="psc-secret" label="Secret client" help={config.psc.secretSet ? 'Un secret est enregistré (chiffré). Laissez vide pour le conserver.' : 'Facultatif ; conservé chiffré, jamais réaffiché.'}>
            <input id="psc-secret" type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} aria-describedby="psc-secret-help" />
          </Field>
        </div>
        <button type="submit" className="button" disabled={busy}>
          Enregistrer
        </button>
      </form>
      {feedback}
    </Section>
  );
}

function DirectorySection() {
  const [file, setFile] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [result, setResult] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      const r = await lps.invoke('mssante.directory.import', { file: file.trim() });
      setResult(`${r.rows.toLocaleString('fr-FR')} adresse(s) importée(s), ${r.skipped.toLocaleString('fr-FR')} ligne(s) ignorée(s), en ${(r.tookMs / 1000).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s.`);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section id="settings-directory" title="Annuaire MSSanté">
      <p className="muted">Import de l’extraction publique des boîtes aux lettres MSSanté (fichier fourni par l’ANS), pour rechercher vos correspondants.</p>
      <form onSubmit={submit} className="row">
        <label className="sr-only" htmlFor="directory-file">
          Fichier d’extraction de l’annuaire
        </label>
        <input id="directory-file" className="grow" value={file} onChange={(e) => setFile(e.target.value)} placeholder="Chemin du fichier d’extraction" spellCheck={false} />
        <button type="submit" className="button" disabled={busy || !file.trim()}>
          {busy ? 'Import en cours…' : 'Importer'}
        </button>
      </form>
      {busy ? <Loading label="Import de l’annuaire…" /> : null}
      {error ? <ErrorNotice error={error} /> : null}
      {result ? (
        <div className="notice notice-success" role="status">
          <p className="notice-title">{result}</p>
        </div>
      ) : null}
      <DirectoryOnlineForm />
    </Section>
  );
}

/** The national annuaire (FHIR API of the ANS) as an optional online source: address and API key (production). */
function DirectoryOnlineForm() {
  const [view, setView] = useState<DirectoryOnlineView>();
  const [sandboxUrl, setSandboxUrl] = useState<string>();
  const [loadError, setLoadError] = useState<ApiError>();
  const [baseUrl, setBaseUrl] = useState('');
  const [apiKey, setApiKey] = useState('');
  const shown = (v: DirectoryOnlineView) => {
    setView(v);
    if (v.source === 'settings') setBaseUrl(v.baseUrl);
  };
  useEffect(() => {
    lps.invoke('mssante.directory.online.get', {}).then(
      (v) => {
        if (v.source === 'sandbox') setSandboxUrl(v.baseUrl);
        shown(v);
      },
      (e) => setLoadError(toApiError(e)),
    );
  }, []);
  const { run, busy, feedback } = useSave<DirectoryOnlineView>(shown);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const key = apiKey;
    setApiKey('');
    void run('Annuaire national en ligne enregistré.', () => lps.invoke('mssante.directory.online.set', { baseUrl: baseUrl.trim(), ...(key ? { apiKey: key } : {}) }));
  };
  const clearKey = () => void run('Clé d’API effacée.', () => lps.invoke('mssante.directory.online.set', { clearApiKey: true }));
  return (
    <div className="settings-subsection">
      <h3>Annuaire national en ligne (production)</h3>
      <p className="muted">
        Facultatif : la recherche de correspondants peut aussi interroger l’Annuaire Santé de l’ANS (API FHIR). La recherche locale reste disponible sans
        connexion.
      </p>
      {loadError ? <ErrorNotice error={loadError} /> : null}
      {sandboxUrl ? (
        <p className="muted" data-testid="directory-online-sandbox">
          Bac à sable : annuaire FHIR de test <code>{sandboxUrl}</code>. Les réglages ci-dessous servent en production.
        </p>
      ) : null}
      <form onSubmit={submit}>
        <div className="form-grid">
          <Field id="directory-online-url" label="Adresse de l’API (https)">
            <input id="directory-online-url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} spellCheck={false} placeholder="https://gateway.api.esante.gouv.fr/fhir/v2" />
          </Field>
          <Field
            id="directory-online-key"
            label="Clé d’API (ESANTE-API-KEY)"
            help={view?.source === 'settings' && view.apiKeySet ? 'Une clé est enregistrée (chiffrée). Laissez vide pour la conserver.' : 'Conservée chiffrée, jamais réaffichée.'}
          >
            <input id="directory-online-key" type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)} aria-describedby="directory-online-key-help" />
          </Field>
        </div>
        <div className="row">
          <button type="submit" className="button" disabled={busy || !baseUrl.trim()}>
            Enregistrer
          </button>
          {view?.source === 'settings' && view.apiKeySet ? (
            <button type="button" className="button button-secondary" disabled={busy} onClick={clearKey}>
              Effacer la clé
            </button>
          ) : null}
        </div>
      </form>
      {feedback}
    </div>
  );
}

function AboutSection({ config, onSaved }: { config?: ConfigView; onSaved: (v: ConfigView) => void }) {
  const { info, load } = useApp();
  const [nil, setNil] = useState(config?.nil ?? info?.nil ?? '');
  useEffect(() => {
    if (config) setNil(config.nil);
  }, [config?.nil]);
  const { run, busy, feedback } = useSave((v) => {
    onSaved(v);
    void load(); // app.info carries the NIL too
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run('Identifiant logiciel enregistré.', () => lps.invoke('config.nil.set', { nil }));
  };
  return (
    <Section id="settings-about" title="À propos">
      <dl className="facts">
        <dt>Application</dt>
        <dd>{info ? `${info.name} ${info.version}` : '—'}</dd>
        <dt>Identifiant logiciel (X-MSS-NIL)</dt>
        <dd>
          <code data-testid="settings-nil">{config?.nil ?? info?.nil ?? '—'}</code>
        </dd>
        <dt>Dossier des données</dt>
        <dd>
          <code>{info?.dataDir ?? '—'}</code>
        </dd>
        {info
          ? Object.entries(info.versions).map(([k, v]) => (
              <div key={k} className="facts-row">
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))
          : null}
      </dl>
      <form onSubmit={submit}>
        <Field id="nil" label="Modifier l’identifiant logiciel (X-MSS-NIL)" help="Attribué lors du référencement ; envoyé dans chaque message MSSanté.">
          <input id="nil" value={nil} onChange={(e) => setNil(e.target.value)} spellCheck={false} aria-describedby="nil-help" />
        </Field>
        <button type="submit" className="button" disabled={busy}>
          Enregistrer
        </button>
      </form>
      {feedback}
    </Section>
  );
}
