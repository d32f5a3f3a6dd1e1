/** The CI-SIS value sets the app carries, by our short name → the SVS file published by the ANS. */
export const VALUE_SET_FILES = {
  J07_TYPE: 'JDV_J07_XdsTypeCode_CISIS.xml',
  J08_CONFIDENTIALITY: 'JDV_J08_XdsConfidentialityCode_CISIS.xml',
  HL7_CONFIDENTIALITY: 'JDV_HL7_Confidentiality_CISIS.xml',
  J01_AUTHOR_SPECIALTY: 'JDV_J01_XdsAuthorSpecialty_CISIS.xml',
  J02_FACILITY_TYPE: 'JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml',
  J04_PRACTICE_SETTING: 'JDV_J04_XdsPracticeSettingCode_CISIS.xml',
  J197_REFERENCE_ID_TYPE: 'JDV_J197_XdsTypesIdentifiantsReferenceId_CISIS.xml',
  MODALITY: 'JDV_ModaliteAcquisition_CISIS.xml',
  ANATOMIC_REGION: 'JDV_RegionAnatomique_CISIS.xml',
  SOCIO_PROFESSIONAL: 'JDV_Profession_CISIS.xml',
} as const;

export type ValueSetName = keyof typeof VALUE_SET_FILES;

/** Compact generated form: concepts as [code, index into systems, French label]. */
export interface GeneratedValueSet {
  name: ValueSetName;
  file: string;
  oid: string;
  version: string;
  source: string;
  systems: readonly string[];
  concepts: readonly (readonly [string, number, string])[];
}
