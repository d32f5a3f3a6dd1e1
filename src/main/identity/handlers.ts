import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { CardPinError } from './card/card-service';
import { identityRuntime } from './runtime';
import { identitySession } from './session';

export function registerIdentityHandlers(core: Core): void {
  const rt = identityRuntime(core);
  const session = identitySession(core); // installs the lock guard and follows card / PSC events
  core.registry
    .register('identity.card.status', () => {
      const card = rt.card();
      card.start(); // watch from now on: insert/remove events reach the UI
      return card.status();
    })
    .register('identity.card.login', ({ pin }, ctx) => {
      const card = rt.card();
      card.start();
      try {
        const status = card.login(pin);
        let authDer: Buffer | undefined;
        try {
          authDer = card.certificate('auth');
        } catch {
          authDer = undefined;
        }
        session.signedInWithCard(status, authDer);
        core.audit.append({ actor: status.holder?.nationalId ?? 'utilisateur', action: 'identity.card.login', subject: status.tokenLabel, outcome: 'success', details: { transport: ctx.transport } });
        return status;
      } catch (err) {
        if (err instanceof AppError) {
          core.audit.append({ actor: 'utilisateur', action: 'identity.card.login', outcome: 'failure', details: { code: err.code, ...(err instanceof CardPinError ? { remainingTries: err.remainingTries } : {}) } });
        }
        throw err;
      }
    })
    .register('identity.card.logout', () => {
      const card = rt.card();
      card.logout();
      if (session.get().method === 'card') session.signedOut();
      return card.status();
    })
    .register('identity.psc.login', async (_input, ctx) => {
      const session = await rt.psc().login();
      core.audit.append({ actor: session.identity.nationalId, action: 'identity.psc.login', outcome: 'success', details: { transport: ctx.transport, acr: session.acr } });
      core.events.emit('identity.psc', { connected: true, reason: 'login', session });
      return session;
    })
    .register('identity.psc.logout', async () => {
      const psc = rt.psc();
      const who = psc.session()?.identity.nationalId;
      await psc.logout();
      if (who) core.audit.append({ actor: who, action: 'identity.psc.logout', outcome: 'success', details: {} });
      return { connected: false as const };
    })
    .register('identity.psc.session', () => {
      let session;
      try {
        session = rt.psc().session();
      } catch {
        session = undefined; // not configured: not connected
      }
      return session ? { connected: true, session } : { connected: false };
    })
    .register('identity.session.get', () => session.get())
    .register('identity.session.selectActivity', ({ activityId }, ctx) => {
      const s = session.selectActivity(activityId);
      core.audit.append({ actor: s.practitioner?.nationalId ?? 'utilisateur', action: 'identity.session.activity', subject: s.activities.find((a) => a.id === activityId)?.structureId ?? activityId, outcome: 'success', details: { transport: ctx.transport } });
      return s;
    })
    .register('identity.session.signOut', async (_input, ctx) => {
      const current = session.get();
      if (current.method === 'psc') {
        session.signedOut();
        // Revokes the tokens, then ends the PSC session in the browser. The local sign-out is already done:
        // a browser that cannot open must not keep the user "signed in".
        await rt
          .psc()
          .logout()
          .catch((err: unknown) => core.audit.append({ actor: current.practitioner?.nationalId ?? 'utilisateur', action: 'identity.psc.end-session', outcome: 'failure', details: { code: err instanceof AppError ? err.code : 'BROWSER' } }));
      } else if (current.method === 'card') {
        try {
          rt.card().logout();
        } finally {
          session.signedOut();
        }
      }
      if (current.practitioner) core.audit.append({ actor: current.practitioner.nationalId, action: 'identity.session.signOut', outcome: 'success', details: { method: current.method, transport: ctx.transport } });
      return session.get();
    });
}
