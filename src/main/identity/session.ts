import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import type { IdentitySession, SessionActivity } from '../../shared/api/identity';
import type { Method } from '../../shared/api';
import type { CardStatus } from './card/card-service';
import { PROFESSION_LABELS } from './pki/igc-sante-profile';
import type { PscSessionInfo } from './psc/psc-client';
import { identityRuntime } from './runtime';

/** Settings key of the last chosen activity per practitioner (national id → activity id). */
const SETTING_LAST_ACTIVITY = 'identity.lastActivity';

/**
 * Methods still served while the session is LOCKED (card removed): what the lock screen and the shell need
 * (identity, app info, profile, settings read). Everything else — sending, publishing, reading documents,
 * patients, traces — is refused until the PIN is entered again on the card.
 */
const ALLOWED_WHILE_LOCKED = new Set<string>([
  'app.info',
  'app.echo',
  'profile.get',
  'sandbox.status',
  'identity.card.status',
  'identity.card.login',
  'identity.card.logout',
  'identity.psc.session',
  'identity.session.get',
  'identity.session.signOut',
  'config.get',
]);

/**
 * The practitioner's session for one Core: signed in by card (PIN) or by Pro Santé Connect, with the chosen
 * structure / activity; locked when the card of a card session is removed. Pushed to the UI as
 * `identity.session` events. Nothing secret is kept here (no PIN, no token).
 */
export class SessionTracker {
  private state: IdentitySession = { status: 'signed-out', activities: [], needsActivity: false };
  private cardAuthDer?: Buffer;

  constructor(private readonly core: Core) {
    core.events.on('identity.card', (e) => {
      if (e.kind === 'removed' && this.state.method === 'card' && this.state.status === 'signed-in') this.lock();
    });
    core.events.on('identity.psc', (e) => {
      if (!e.connected && this.state.method === 'psc') this.set({ status: 'signed-out', activities: [], needsActivity: false });
      else if (e.connected && e.session && e.reason !== 'refresh') this.signedInWithPsc(e.session as PscSessionInfo);
    });
  }

  get(): IdentitySession {
    return this.state;
  }

  /** The card's authentication certificate of the current card session (Electron picks it for mTLS). */
  cardAuthCertificate(): Buffer | undefined {
    return this.state.method === 'card' ? this.cardAuthDer : undefined;
  }

  signedInWithCard(status: CardStatus, authCertDer?: Buffer): void {
    const holder = status.holder;
    if (!holder) throw new AppError('CARD_NO_HOLDER', "L'identité du porteur n'a pas pu être lue sur la carte.", 'no holder identity');
    const sameHolder = this.state.status === 'locked' && this.state.practitioner?.nationalId === holder.nationalId;
    this.cardAuthDer = authCertDer;
    if (sameHolder) {
      this.set({ ...this.state, status: 'signed-in' }); // unlocked: same card, activity kept
      return;
    }
    const activities: SessionActivity[] =
      holder.structureId || holder.structureName
        ? [activity('card', { structureId: holder.structureId, structureName: holder.structureName, professionCode: holder.professionCode })]
        : [];
    this.start('card', {
      nationalId: holder.nationalId,
      ...(holder.idTypeLabel ? { idTypeLabel: holder.idTypeLabel } : {}),
      ...(holder.lastName ? { lastName: holder.lastName } : {}),
      ...(holder.firstName ? { firstName: holder.firstName } : {}),
      ...(holder.professionCode ? { professionCode: holder.professionCode } : {}),
      ...(holder.profession ? { profession: holder.profession } : {}),
    }, activities);
  }

  signedInWithPsc(session: PscSessionInfo): void {
    const id = session.identity;
    if (this.state.status === 'signed-in' && this.state.method === 'psc' && this.state.practitioner?.nationalId === id.nationalId) return;
    const activities: SessionActivity[] = [];
    id.exercices.forEach((ex, i) =>
      ex.activities.forEach((a, j) =>
        activities.push(activity(`psc-${i}-${j}`, { structureId: a.structureId, structureName: a.structureName, sectorCode: a.sectorCode, professionCode: ex.professionCode })),
      ),
    );
    const profession = id.exercices[0]?.professionCode;
    this.start(
      'psc',
      {
        nationalId: id.nationalId,
        ...(id.idTypeLabel ? { idTypeLabel: id.idTypeLabel } : {}),
        ...(id.lastName ? { lastName: id.lastName } : {}),
        ...(id.firstName ? { firstName: id.firstName } : {}),
        ...(profession ? { professionCode: profession, ...(PROFESSION_LABELS[profession] ? { profession: PROFESSION_LABELS[profession] } : {}) } : {}),
      },
      activities,
      session.restored,
    );
  }

  selectActivity(activityId: string): IdentitySession {
    if (this.state.status !== 'signed-in') throw new AppError('NOT_SIGNED_IN', "Connectez-vous d'abord avec votre carte CPS ou Pro Santé Connect.", `session ${this.state.status}`);
    if (!this.state.activities.some((a) => a.id === activityId)) throw new AppError('ACTIVITY_UNKNOWN', "Cette activité ne fait pas partie de celles du professionnel connecté.", activityId);
    const nationalId = this.state.practitioner!.nationalId;
    this.core.settings.set(SETTING_LAST_ACTIVITY, { ...this.core.settings.get<Record<string, string>>(SETTING_LAST_ACTIVITY, {}), [nationalId]: activityId });
    this.set({ ...this.state, activityId, needsActivity: false });
    return this.state;
  }

  lock(): void {
    this.cardAuthDer = undefined;
    try {
      identityRuntime(this.core).card().logout(); // the card session ends with the card
    } catch {
      /* no card service: nothing to close */
    }
    this.core.audit.append({ actor: this.state.practitioner?.nationalId ?? 'utilisateur', action: 'identity.session.locked', outcome: 'success', details: { reason: 'card-removed' } });
    this.set({ ...this.state, status: 'locked' });
  }

  signedOut(): void {
    this.cardAuthDer = undefined;
    this.set({ status: 'signed-out', activities: [], needsActivity: false });
  }

  /** Refuses a privileged call while the session is locked (card removed). */
  check(method: string): void {
    if (this.state.status === 'locked' && !ALLOWED_WHILE_LOCKED.has(method)) {
      throw new AppError('SESSION_LOCKED', 'Session verrouillée : la carte CPS a été retirée. Réinsérez-la et saisissez votre code PIN.', `${method} refused while locked`);
    }
  }

  private start(method: 'card' | 'psc', practitioner: NonNullable<IdentitySession['practitioner']>, activities: SessionActivity[], restored?: boolean): void {
    const last = this.core.settings.get<Record<string, string>>(SETTING_LAST_ACTIVITY, {})[practitioner.nationalId];
    const activityId = activities.length === 1 ? activities[0]!.id : activities.find((a) => a.id === last)?.id;
    this.set({
      status: 'signed-in',
      method,
      practitioner,
      activities,
      ...(activityId ? { activityId } : {}),
      needsActivity: activities.length > 1 && !activityId,
      since: new Date().toISOString(),
      ...(restored ? { restored: true } : {}),
    });
  }

  private set(state: IdentitySession): void {
    this.state = state;
    this.core.events.emit('identity.session', state);
  }
}

/** Sectors of activity (JDV_J02 / TRE_R02 codes, the ones a practitioner typically has). */
const SECTOR_LABELS: Record<string, string> = {
  SA01: 'Établissement public de santé',
  SA03: 'Établissement privé PSPH',
  SA04: 'Établissement privé non PSPH',
  SA05: 'Centre de santé',
  SA07: 'Cabinet individuel',
  SA08: 'Cabinet de groupe',
  SA09: 'Exercice en société',
};

function activity(id: string, a: { structureId?: string; structureName?: string; sectorCode?: string; professionCode?: string }): SessionActivity {
  const where = a.structureName ?? (a.structureId ? `Structure ${a.structureId}` : 'Structure non précisée');
  const profession = a.professionCode ? PROFESSION_LABELS[a.professionCode] : undefined;
  const label = [where, a.sectorCode ? (SECTOR_LABELS[a.sectorCode] ?? `secteur ${a.sectorCode}`) : undefined, profession].filter(Boolean).join(' — ');
  return {
    id,
    label,
    ...(a.structureId ? { structureId: a.structureId } : {}),
    ...(a.structureName ? { structureName: a.structureName } : {}),
    ...(a.sectorCode ? { sectorCode: a.sectorCode } : {}),
    ...(a.professionCode ? { professionCode: a.professionCode } : {}),
  };
}

const trackers = new WeakMap<Core, SessionTracker>();

/** The Core's session tracker; the first call installs the lock guard on the handler registry. */
export function identitySession(core: Core): SessionTracker {
  let t = trackers.get(core);
  if (t) return t;
  t = new SessionTracker(core);
  trackers.set(core, t);
  installLockGuard(core, t);
  return t;
}

/**
 * Privileged actions are refused in main while the session is locked, whatever the transport (IPC, harness,
 * CLI in-process): every call goes through `registry.invoke`, so the guard wraps it on this Core's registry.
 */
function installLockGuard(core: Core, tracker: SessionTracker): void {
  core.registry.addGuard((method) => tracker.check(method));
}
