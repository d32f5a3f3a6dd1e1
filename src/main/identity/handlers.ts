import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { CardPinError } from './card/card-service';
import { identityRuntime } from './runtime';

export function registerIdentityHandlers(core: Core): void {
  const rt = identityRuntime(core);
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
    });
}
