import { z } from 'zod';
import type { ProfileKind } from '../../shared/api/app';
import type { ProfileState } from '../../shared/api/settings';
import { AppError } from '../core/errors';
import type { Db } from './database';
import type { SettingsRepository } from './settings';

/**
 * A production configuration: where the real services are and which trust store to use. Capabilities
 * read their own section (`mssante`, `dmp`, `psc`, …); the foundation only needs to know whether one
 * exists.
 */
export const ProductionConfig = z
  .object({
    configuredAt: z.string(),
  })
  .loose();
export type ProductionConfig = z.infer<typeof ProductionConfig>;

export class ProfileRepository {
  constructor(
    private readonly db: Db,
    private readonly settings: SettingsRepository,
  ) {}

  getProduction(): ProductionConfig | undefined {
    const row = this.db.prepare("SELECT config FROM profiles WHERE name = 'production'").get() as { config: string } | undefined;
    return row ? ProductionConfig.parse(JSON.parse(row.config)) : undefined;
  }

  saveProduction(config: ProductionConfig): void {
    const parsed = ProductionConfig.parse(config);
    this.db
      .prepare(
        `INSERT INTO profiles (name, config, updated_at) VALUES ('production', ?, ?)
         ON CONFLICT(name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
      )
      .run(JSON.stringify(parsed), new Date().toISOString());
  }

  /** The sandbox is the default whenever no production configuration exists. */
  state(sandboxRunning: boolean): ProfileState {
    const productionConfigured = this.getProduction() !== undefined;
    const chosen = this.settings.get<ProfileKind>('profile.active');
    if (chosen === 'production' && productionConfigured) {
      return { active: 'production', reason: 'chosen', productionConfigured, sandboxRunning };
    }
    if (chosen === 'sandbox') return { active: 'sandbox', reason: 'chosen', productionConfigured, sandboxRunning };
    return { active: 'sandbox', reason: 'default-no-production', productionConfigured, sandboxRunning };
  }

  choose(profile: ProfileKind, sandboxRunning: boolean): ProfileState {
    if (profile === 'production' && !this.getProduction()) {
      throw new AppError(
        'PRODUCTION_NOT_CONFIGURED',
        "Aucune configuration de production n'est enregistrée : renseignez d'abord les services (messagerie, DMP, certificats) dans les paramètres.",
      );
    }
    this.settings.set('profile.active', profile);
    return this.state(sandboxRunning);
  }
}
