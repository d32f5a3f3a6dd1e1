import { describe, expect, it } from 'vitest';
import { entryMatches, nationalIdOf, professionCodes, professionLabel, specialtyLabel, toDirectoryEntries, type Bundle, type FhirResource } from '../../../src/main/mssante/directory-fhir';

/**
 * Mapping of the ANS Annuaire Santé FHIR API answers (as-dp profiles, API v2) to directory entries. The bundle
 * below has the shape of the IG's "BAL MSS PER" searchset examples and of its DP Practitioner / PractitionerRole /
 * Organization examples: idNatPs + RPPS identifiers, official HumanName, telecom with the
 * as-ext-mailbox-mss-metadata extension (type from TRE_R257, listeRouge), TRE_G15 / TRE_R38 qualifications,
 * `_revinclude`d PractitionerRoles (search.mode include) and the roles' Organizations.
 */
const META_URL = 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata';
const mailbox = (value: string, type: string, extra: object[] = []) => ({
  system: 'email',
  value,
  extension: [
    {
      url: META_URL,
      extension: [{ url: 'type', valueCodeableConcept: { coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL', code: type }] } }, { url: 'listeRouge', valueBoolean: false }, ...extra],
    },
  ],
});
const ids = (idnps: string) => [
  { use: 'official', system: 'urn:oid:1.2.250.1.71.4.2.1', value: idnps, type: { coding: [{ system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203', code: 'IDNPS' }] } },
  { use: 'official', system: 'https://rpps.esante.gouv.fr', value: idnps.slice(1), type: { coding: [{ system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203', code: 'RPPS' }] } },
];
const qualif = (g15: string, r38?: string) => [
  {
    code: {
      coding: [
        { system: 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante', code: g15 },
        ...(r38 ? [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale', code: r38 }] : []),
      ],
    },
  },
  { code: { coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R48-DiplomeEtatFrancais/FHIR/TRE-R48-DiplomeEtatFrancais', code: 'DE01' }] } },
];

const BUNDLE: Bundle = {
  resourceType: 'Bundle',
  type: 'searchset',
  total: 4,
  link: [{ relation: 'self', url: 'https://gateway.api.esante.gouv.fr/fhir/v2/Practitioner?family=dupont&_revinclude=PractitionerRole:practitioner' }],
  entry: [
    {
      fullUrl: 'https://gateway.api.esante.gouv.fr/fhir/v2/Practitioner/003-1',
      resource: {
        resourceType: 'Practitioner',
        id: '003-1',
        active: true,
        identifier: ids('810003456789'),
        name: [{ use: 'official', family: 'DUPONT', given: ['Jean-Marie'] }],
        telecom: [
          mailbox('Jean-Marie.Dupont@infirmier.mssante.fr', 'PER'),
          { system: 'phone', value: '0603590791' },
          { system: 'email', value: 'jm.dupont@hotmail.fr' }, // an ordinary address: not a mailbox
        ],
        qualification: qualif('60'),
      },
      search: { mode: 'match' },
    },
    {
      fullUrl: 'https://gateway.api.esante.gouv.fr/fhir/v2/Practitioner/003-2',
      resource: {
        resourceType: 'Practitioner',
        id: '003-2',
        active: true,
        identifier: [{ use: 'official', system: 'https://rpps.esante.gouv.fr', value: '10007654321' }],
        name: [{ use: 'usual', prefix: ['DR'], family: 'DUPONT', given: ['Sophie', 'Anne'] } as never],
        telecom: [],
        qualification: qualif('10', 'SM04'),
      },
      search: { mode: 'match' },
    },
    {
      fullUrl: 'https://gateway.api.esante.gouv.fr/fhir/v2/Practitioner/003-3',
      resource: {
        resourceType: 'Practitioner',
        id: '003-3',
        active: true,
        identifier: ids('810009990003'),
        name: [{ use: 'official', family: 'DUPONT', given: ['Paul'] }],
        telecom: [{ ...mailbox('paul.dupont@medecin.mssante.fr', 'PER'), extension: [{ url: META_URL, extension: [{ url: 'listeRouge', valueBoolean: true }] }] }],
        qualification: qualif('10'),
      },
      search: { mode: 'match' },
    },
    {
      fullUrl: 'https://gateway.api.esante.gouv.fr/fhir/v2/Practitioner/003-4',
      resource: { resourceType: 'Practitioner', id: '003-4', active: false, identifier: ids('810009990004'), name: [{ family: 'DUPONT', given: ['Marc'] }], telecom: [mailbox('marc.dupont@medecin.mssante.fr', 'PER')] },
      search: { mode: 'match' },
    },
    {
      fullUrl: 'https://gateway.api.esante.gouv.fr/fhir/v2/PractitionerRole/r1',
      resource: { resourceType: 'PractitionerRole', id: 'r1', active: true, practitioner: { reference: 'Practitioner/003-1' }, organization: { reference: 'Organization/eg-1' } },
      search: { mode: 'include' },
    },
    {
      fullUrl: 'https://gateway.api.esante.gouv.fr/fhir/v2/PractitionerRole/r2',
      resource: {
        resourceType: 'PractitionerRole',
        id: 'r2',
        active: true,
        practitioner: { reference: 'https://gateway.api.esante.gouv.fr/fhir/v2/Practitioner/003-2' },
        organization: { reference: 'Organization/eg-2' },
        // The practitioner's mailbox at this organisation: only on the situation d'exercice.
        telecom: [mailbox('sophie.dupont@ch-troyes.mssante.fr', 'PER')],
      },
      search: { mode: 'include' },
    },
  ],
};
const ORGS: FhirResource[] = [
  { resourceType: 'Organization', id: 'eg-1', active: true, name: 'CABINET INFIRMIER DES COTEAUX', address: [{ city: 'EPERNAY', postalCode: '51200' }] },
  {
    resourceType: 'Organization',
    id: 'eg-2',
    active: true,
    name: 'CH DE TROYES',
    address: [{ city: 'TROYES', postalCode: '10000' }],
    telecom: [mailbox('cardiologie@ch-troyes.mssante.fr', 'ORG', [{ url: 'service', valueString: 'Cardiologie' }]), mailbox('pfi@ch-troyes.mssante.fr', 'APP')],
  },
];
const resources = () => [...(BUNDLE.entry ?? []).map((e) => e.resource!), ...ORGS];

describe('Annuaire Santé FHIR → directory entries', () => {
  it('maps each MSSanté mailbox of a practitioner and of its situations, with the organisation of the situation', () => {
    const entries = toDirectoryEntries(resources());
    expect(entries.map((e) => e.address).sort()).toEqual(['jean-marie.dupont@infirmier.mssante.fr', 'sophie.dupont@ch-troyes.mssante.fr']);
    expect(entries.find((e) => e.address.startsWith('jean-marie'))).toEqual({
      address: 'jean-marie.dupont@infirmier.mssante.fr',
      kind: 'PER',
      nationalId: '810003456789',
      family: 'DUPONT',
      given: 'Jean-Marie',
      profession: 'Infirmier',
      specialty: null,
      organization: 'CABINET INFIRMIER DES COTEAUX',
      city: 'EPERNAY',
      postalCode: '51200',
      source: 'annuaire-fhir',
    });
    // RPPS only → "8" + RPPS; both given names; the savoir-faire label from TRE_R38 via the CI-SIS table.
    expect(entries.find((e) => e.address.startsWith('sophie'))).toMatchObject({ nationalId: '810007654321', given: 'Sophie Anne', profession: 'Médecin', specialty: 'Cardiologie et maladies vasculaires', organization: 'CH DE TROYES', city: 'TROYES' });
  });

  it('leaves out red-listed mailboxes, inactive practitioners and ordinary e-mail addresses', () => {
    const addresses = toDirectoryEntries(resources()).map((e) => e.address);
    expect(addresses).not.toContain('paul.dupont@medecin.mssante.fr');
    expect(addresses).not.toContain('marc.dupont@medecin.mssante.fr');
    expect(addresses).not.toContain('jm.dupont@hotmail.fr');
  });

  it('adds the organisations own ORG/APP mailboxes only when asked (search by city)', () => {
    const withOrgs = toDirectoryEntries(resources(), { organizationMailboxes: true });
    expect(withOrgs.find((e) => e.address === 'cardiologie@ch-troyes.mssante.fr')).toEqual({
      address: 'cardiologie@ch-troyes.mssante.fr',
      kind: 'ORG',
      nationalId: null,
      family: null,
      given: null,
      profession: null,
      specialty: 'Cardiologie',
      organization: 'CH DE TROYES',
      city: 'TROYES',
      postalCode: '10000',
      source: 'annuaire-fhir',
    });
    expect(withOrgs.find((e) => e.address === 'pfi@ch-troyes.mssante.fr')?.kind).toBe('APP');
  });

  it('recognises a mailbox by the MSSanté e-mail type or domain when the metadata extension is absent', () => {
    const p: FhirResource = {
      resourceType: 'Practitioner',
      id: 'x',
      identifier: ids('810000000001'),
      name: [{ family: 'X', given: ['Y'] }],
      telecom: [
        { system: 'email', value: 'a@operateur-mss.example', extension: [{ url: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-email-type', valueCoding: { code: 'MSSANTE' } }] },
        { system: 'email', value: 'b@pro.mssante.fr' },
        { system: 'email', value: 'c@gmail.com' },
      ],
    };
    expect(toDirectoryEntries([p]).map((e) => [e.address, e.kind])).toEqual([
      ['a@operateur-mss.example', 'PER'],
      ['b@pro.mssante.fr', 'PER'],
    ]);
  });

  it('profession codes and labels come from the TRE_G15 table (CI-SIS J01)', () => {
    expect(professionLabel('10')).toBe('Médecin');
    expect(professionLabel('21')).toBe('Pharmacien');
    expect(professionCodes('médecin')).toEqual(['10']);
    expect(professionCodes('INFIRM').sort()).toEqual(['60', '69']);
    expect(professionCodes('zzz')).toEqual([]);
    expect(specialtyLabel('SM26')).toBe('Qualifié en Médecine Générale');
    expect(nationalIdOf({ resourceType: 'Practitioner', identifier: [{ system: 'https://rpps.esante.gouv.fr', value: '10001234567' }] })).toBe('810001234567');
  });

  it('applies every criterion to the mapped entries like the local index (folded word prefixes)', () => {
    const [jm] = toDirectoryEntries(resources());
    expect(entryMatches(jm!, { family: 'dup', given: 'jean' })).toBe(true);
    expect(entryMatches(jm!, { given: 'marie' })).toBe(true); // a word of a compound first name
    expect(entryMatches(jm!, { city: 'épern', profession: 'infirmier' })).toBe(true);
    expect(entryMatches(jm!, { city: 'troyes' })).toBe(false);
    expect(entryMatches(jm!, { nationalId: '810003456789' })).toBe(true);
    expect(entryMatches(jm!, { nationalId: '10003456789' })).toBe(false);
    expect(entryMatches(jm!, { text: 'dupont coteaux' })).toBe(true);
    expect(entryMatches(jm!, { text: 'dupont reims' })).toBe(false);
  });
});
