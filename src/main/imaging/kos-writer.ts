import { SOP_CLASS, T, TS } from './dicom/constants';
import { newUid, writePart10, type DicomItem, type WElement } from './dicom/writer';

/**
 * Builds XDS-I.b KOS manifests (TID 2010 "Key Object Selection", title 113030 "Manifest"), as a producer
 * would publish them in the DMP: used by the sandbox for its studies and by the tests.
 */

/** OID of the INS (NIR) as an issuer of patient identifiers (French national health identifier). */
export const INS_NIR_OID = '1.2.250.1.213.1.4.8';

export interface KosWriteInput {
  patient: { id: string; issuerOid?: string; name?: string; birthDate?: string; sex?: string };
  accessionNumber?: string;
  studyDate?: string;
  studyTime?: string;
  studyDescription?: string;
  institution?: string;
  sopInstanceUid?: string;
  seriesInstanceUid?: string;
  studies: {
    studyInstanceUid: string;
    /** Study-level Retrieve URL (0008,1190), optional. */
    retrieveUrl?: string;
    series: {
      seriesInstanceUid: string;
      retrieveUrl?: string;
      retrieveAeTitle?: string;
      retrieveLocationUid?: string;
      /** Put the URL inside a WADO-RS Retrieval Sequence (0040,E025) instead of (0008,1190). */
      urlInWadoRsSequence?: boolean;
      instances: { sopClassUid: string; sopInstanceUid: string }[];
    }[];
  }[];
  transferSyntaxUid?: typeof TS.ExplicitLE | typeof TS.ImplicitLE;
  undefinedLengths?: boolean;
  now?: Date;
}

function da(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}
function tm(d: Date): string {
  return d.toISOString().slice(11, 19).replace(/:/g, '');
}

export function writeKos(input: KosWriteInput): { bytes: Buffer; sopInstanceUid: string; seriesInstanceUid: string } {
  const now = input.now ?? new Date();
  const sopInstanceUid = input.sopInstanceUid ?? newUid();
  const seriesInstanceUid = input.seriesInstanceUid ?? newUid();
  const firstStudy = input.studies[0];
  if (!firstStudy) throw new Error('a KOS references at least one study');

  const evidence: DicomItem[] = input.studies.map((st) => {
    const seriesItems: DicomItem[] = st.series.map((se) => {
      const item: DicomItem = [
        [T.SeriesInstanceUid, 'UI', se.seriesInstanceUid],
        [T.ReferencedSopSequence, 'SQ', se.instances.map((i) => [[T.ReferencedSopClassUid, 'UI', i.sopClassUid], [T.ReferencedSopInstanceUid, 'UI', i.sopInstanceUid]] as DicomItem)],
      ];
      if (se.retrieveAeTitle) item.push([T.RetrieveAeTitle, 'AE', se.retrieveAeTitle]);
      if (se.retrieveLocationUid) item.push([T.RetrieveLocationUid, 'UI', se.retrieveLocationUid]);
      if (se.retrieveUrl && se.urlInWadoRsSequence) item.push([T.WadoRsRetrievalSequence, 'SQ', [[[T.RetrieveUrl, 'UR', se.retrieveUrl]]]]);
      else if (se.retrieveUrl) item.push([T.RetrieveUrl, 'UR', se.retrieveUrl]);
      return item;
    });
    const item: DicomItem = [
      [T.StudyInstanceUid, 'UI', st.studyInstanceUid],
      [T.ReferencedSeriesSequence, 'SQ', seriesItems],
    ];
    if (st.retrieveUrl) item.push([T.RetrieveUrl, 'UR', st.retrieveUrl]);
    return item;
  });

  const content: DicomItem[] = input.studies.flatMap((st) =>
    st.series.flatMap((se) =>
      se.instances.map(
        (i): DicomItem => [
          [0x0040a010, 'CS', 'CONTAINS'],
          [T.ValueType, 'CS', 'IMAGE'],
          [T.ReferencedSopSequence, 'SQ', [[[T.ReferencedSopClassUid, 'UI', i.sopClassUid], [T.ReferencedSopInstanceUid, 'UI', i.sopInstanceUid]]]],
        ],
      ),
    ),
  );

  const p = input.patient;
  const elements: WElement[] = [
    [T.SpecificCharacterSet, 'CS', 'ISO_IR 192'],
    [T.SopClassUid, 'UI', SOP_CLASS.KeyObjectSelection],
    [T.SopInstanceUid, 'UI', sopInstanceUid],
    [T.StudyDate, 'DA', input.studyDate ?? da(now)],
    [T.ContentDate, 'DA', da(now)],
    [T.StudyTime, 'TM', input.studyTime ?? ''],
    [0x00080033, 'TM', tm(now)],
    [T.AccessionNumber, 'SH', input.accessionNumber ?? ''],
    [T.Modality, 'CS', 'KO'],
    [0x00080070, 'LO', 'LPS Companion'],
    [0x00080090, 'PN', ''],
    [0x00081111, 'SQ', []],
    [T.PatientName, 'PN', p.name ?? ''],
    [T.PatientId, 'LO', p.id],
    [T.PatientBirthDate, 'DA', p.birthDate ?? ''],
    [T.PatientSex, 'CS', p.sex ?? ''],
    [T.StudyInstanceUid, 'UI', firstStudy.studyInstanceUid],
    [T.SeriesInstanceUid, 'UI', seriesInstanceUid],
    [T.StudyId, 'SH', input.accessionNumber?.slice(0, 16) ?? ''],
    [0x00200011, 'IS', '999'],
    [0x00200013, 'IS', '1'],
    [T.ValueType, 'CS', 'CONTAINER'],
    [T.ConceptNameCodeSequence, 'SQ', [[[T.CodeValue, 'SH', '113030'], [T.CodingSchemeDesignator, 'SH', 'DCM'], [T.CodeMeaning, 'LO', 'Manifest']]]],
    [0x0040a050, 'CS', 'SEPARATE'],
    [T.CurrentRequestedProcedureEvidenceSequence, 'SQ', evidence],
    [0x0040a504, 'SQ', [[[0x00080105, 'CS', 'DCMR'], [0x0040db00, 'CS', '2010']]]],
    [T.ContentSequence, 'SQ', content],
  ];
  if (input.studyDescription) elements.push([T.StudyDescription, 'LO', input.studyDescription]);
  if (input.institution) elements.push([0x00080080, 'LO', input.institution]);
  if (p.issuerOid) {
    elements.push([0x00100024, 'SQ', [[[0x00400032, 'UT', p.issuerOid], [0x00400033, 'CS', 'ISO']]]]);
  }
  const bytes = writePart10(elements, { transferSyntaxUid: input.transferSyntaxUid ?? TS.ExplicitLE, undefinedLengths: input.undefinedLengths });
  return { bytes, sopInstanceUid, seriesInstanceUid };
}
