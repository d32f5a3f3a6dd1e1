import type { SandboxService } from './service';
import { identitySandboxService } from '../identity/sandbox-service';
import { mailSandboxService } from '../mssante/sandbox-service';
import { pacsSandboxService } from '../imaging/sandbox-service';
import { dmpSandboxService } from '../dmp/sandbox-service';

/**
 * The sandbox services, in start order (a service may read the profile sections written by the ones
 * before it: the mail server needs the PSC provider's introspection URL, the DMP server the test CA, …).
 * Each capability adds its service here.
 */
export const ALL_SERVICES: SandboxService[] = [
  identitySandboxService, // first: PKI, test CPS and PSC, read by every later service
  mailSandboxService, // after identity (PKI, PSC introspection), before dmp
  dmpSandboxService, // after identity (PKI, card holder) and mail (patients), before pacs
  // pacs stays LAST (its KOS are published by the DMP sandbox through sandboxImagingSeed()).
  pacsSandboxService,
];
