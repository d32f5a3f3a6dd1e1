/** DICOM constants this capability relies on (PS3.6 / PS3.5): transfer syntaxes, SOP classes, a few tags. */

export const TS = {
  ImplicitLE: '1.2.840.10008.1.2',
  ExplicitLE: '1.2.840.10008.1.2.1',
  DeflatedExplicitLE: '1.2.840.10008.1.2.1.99',
  ExplicitBE: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  JpegLossless: '1.2.840.10008.1.2.4.57',
  JpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  JpegLsLossless: '1.2.840.10008.1.2.4.80',
  JpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  Jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  Jpeg2000: '1.2.840.10008.1.2.4.91',
  Rle: '1.2.840.10008.1.2.5',
} as const;

export const TS_NAMES: Record<string, string> = {
  [TS.ImplicitLE]: 'Implicit VR Little Endian',
  [TS.ExplicitLE]: 'Explicit VR Little Endian',
  [TS.DeflatedExplicitLE]: 'Deflated Explicit VR Little Endian',
  [TS.ExplicitBE]: 'Explicit VR Big Endian',
  [TS.JpegBaseline]: 'JPEG Baseline',
  [TS.JpegExtended]: 'JPEG Extended',
  [TS.JpegLossless]: 'JPEG Lossless',
  [TS.JpegLosslessSV1]: 'JPEG Lossless SV1',
  [TS.JpegLsLossless]: 'JPEG-LS Lossless',
  [TS.JpegLsNearLossless]: 'JPEG-LS Near-Lossless',
  [TS.Jpeg2000Lossless]: 'JPEG 2000 Lossless',
  [TS.Jpeg2000]: 'JPEG 2000',
  [TS.Rle]: 'RLE Lossless',
};

export const SOP_CLASS = {
  KeyObjectSelection: '1.2.840.10008.5.1.4.1.1.88.59',
  CtImage: '1.2.840.10008.5.1.4.1.1.2',
  MrImage: '1.2.840.10008.5.1.4.1.1.4',
  CrImage: '1.2.840.10008.5.1.4.1.1.1',
  UsImage: '1.2.840.10008.5.1.4.1.1.6.1',
  SecondaryCapture: '1.2.840.10008.5.1.4.1.1.7',
} as const;

/** Builds the numeric tag (group << 16 | element) used everywhere in this module. */
export function tag(group: number, element: number): number {
  return ((group << 16) | element) >>> 0;
}

export function tagString(t: number): string {
  const g = (t >>> 16).toString(16).toUpperCase().padStart(4, '0');
  const e = (t & 0xffff).toString(16).toUpperCase().padStart(4, '0');
  return `(${g},${e})`;
}

export const T = {
  FileMetaGroupLength: tag(0x0002, 0x0000),
  MediaStorageSopClassUid: tag(0x0002, 0x0002),
  MediaStorageSopInstanceUid: tag(0x0002, 0x0003),
  TransferSyntaxUid: tag(0x0002, 0x0010),
  SpecificCharacterSet: tag(0x0008, 0x0005),
  SopClassUid: tag(0x0008, 0x0016),
  SopInstanceUid: tag(0x0008, 0x0018),
  StudyDate: tag(0x0008, 0x0020),
  ContentDate: tag(0x0008, 0x0023),
  StudyTime: tag(0x0008, 0x0030),
  AccessionNumber: tag(0x0008, 0x0050),
  RetrieveAeTitle: tag(0x0008, 0x0054),
  Modality: tag(0x0008, 0x0060),
  CodeValue: tag(0x0008, 0x0100),
  CodingSchemeDesignator: tag(0x0008, 0x0102),
  CodeMeaning: tag(0x0008, 0x0104),
  StudyDescription: tag(0x0008, 0x1030),
  SeriesDescription: tag(0x0008, 0x103e),
  ReferencedSeriesSequence: tag(0x0008, 0x1115),
  ReferencedSopClassUid: tag(0x0008, 0x1150),
  ReferencedSopInstanceUid: tag(0x0008, 0x1155),
  RetrieveUrl: tag(0x0008, 0x1190),
  ReferencedSopSequence: tag(0x0008, 0x1199),
  PatientName: tag(0x0010, 0x0010),
  PatientId: tag(0x0010, 0x0020),
  IssuerOfPatientId: tag(0x0010, 0x0021),
  PatientBirthDate: tag(0x0010, 0x0030),
  PatientSex: tag(0x0010, 0x0040),
  StudyInstanceUid: tag(0x0020, 0x000d),
  SeriesInstanceUid: tag(0x0020, 0x000e),
  StudyId: tag(0x0020, 0x0010),
  ValueType: tag(0x0040, 0xa040),
  ConceptNameCodeSequence: tag(0x0040, 0xa043),
  CurrentRequestedProcedureEvidenceSequence: tag(0x0040, 0xa375),
  ContentSequence: tag(0x0040, 0xa730),
  RetrieveLocationUid: tag(0x0040, 0xe011),
  WadoRsRetrievalSequence: tag(0x0040, 0xe025),
  PixelData: tag(0x7fe0, 0x0010),
  Item: tag(0xfffe, 0xe000),
  ItemDelimitation: tag(0xfffe, 0xe00d),
  SequenceDelimitation: tag(0xfffe, 0xe0dd),
} as const;

/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 7.1.2). */
export const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
export const ALL_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN', 'SH', 'SL',
  'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

/**
 * Sequence attributes a KOS (and the images we write) may carry: in implicit VR a defined-length value
 * cannot tell its VR, so these are parsed as sequences; other defined-length values that start with an
 * item tag are tried as sequences too.
 */
export const KNOWN_SEQUENCES = new Set<number>([
  tag(0x0008, 0x0082), tag(0x0008, 0x0096), tag(0x0008, 0x1032), tag(0x0008, 0x1110), tag(0x0008, 0x1111), tag(0x0008, 0x1115),
  tag(0x0008, 0x111a), tag(0x0008, 0x114a), tag(0x0008, 0x1198), tag(0x0008, 0x1199), tag(0x0008, 0x1200), tag(0x0008, 0x2218),
  tag(0x0010, 0x0024), tag(0x0010, 0x1002), tag(0x0032, 0x1064), tag(0x0040, 0x0275), tag(0x0040, 0xa043), tag(0x0040, 0xa168),
  tag(0x0040, 0xa370), tag(0x0040, 0xa372), tag(0x0040, 0xa375), tag(0x0040, 0xa385), tag(0x0040, 0xa504), tag(0x0040, 0xa525),
  tag(0x0040, 0xa730), tag(0x0040, 0xe021), tag(0x0040, 0xe022), tag(0x0040, 0xe023), tag(0x0040, 0xe024), tag(0x0040, 0xe025),
  tag(0x0028, 0x3010), tag(0x0054, 0x0220),
]);
