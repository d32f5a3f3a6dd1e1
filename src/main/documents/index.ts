/**
 * The documents façade: CDA R2 (CI-SIS), XDS metadata (ebRIM 3.0), IHE_XDM archives, companion PDF.
 * Other domains import from here only. Contract: docs/documents-api.md.
 */
export * from './types';
export { parseCdaRequest, loadCdaRequest, cdaRequestSchema, type CdaRequest, type CdaRequestInput } from './cda-request';
export { buildCda, buildNewVersion, type BuildCdaOptions, type BuiltCda } from './cda-build';
export { parseCda } from './cda-parse';
export { renderNarrativeHtml } from './narrative-html';
export { checkCda, type CdaCheckResult } from './cda-check';
export { validateXmlWithSchema, schemaDirectory, type SchemaName, type SchemaResult } from './schema-validate';
export { deriveXdsMetadata, patientCx, uniqueIdOf, xcn, xon, type XdsChoices, type DocumentChoices } from './xds-derive';
export { serializeSubmitObjectsRequest, serializeRegistryObjectList } from './ebrim-write';
export { parseEbrim, type EbrimParsed, type RegistryError } from './ebrim-parse';
export { writeXdm, type XdmWriteOptions, type XdmWritten } from './xdm-write';
export { readXdm, DEFAULT_XDM_LIMITS, type XdmLimits, type XdmReadResult, type XdmReadDocument } from './xdm-read';
export { renderCompanionPdf, companionPdfName, xdmSubject } from './companion-pdf';
export { XDS } from './xds-constants';
export { OID } from './oids';
export * as wireProfile from './wire-profile';
