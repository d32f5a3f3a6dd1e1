import type { DicomDataSet } from './dicom/parser';

/**
 * The DICOM JSON (PS3.18 F.2) of what the viewer needs from an instance, built in main from the Part 10 header
 * it already parsed: the attributes the WADO image loader's `wadors` metadata provider reads (pixel module, plane,
 * VOI/modality LUT, series/study, PET, enhanced multi-frame functional groups) and the overlay/series browser
 * fields. Lets the renderer register an instance's metadata from the series stream itself, without a WADO-RS
 * `…/metadata` request (hundreds of ms for a large series on Orthanc) before its first image.
 * Values follow the JSON model (numbers for IS/DS/US/…, `{Alphabetic}` for PN); palette LUT data (OW) is given as
 * an array of words, which is what the loader reads. Works for implicit VR files too (the VR comes from this table).
 */

type JsonAttr = { vr: string; Value?: unknown[] };
export type DicomJson = Record<string, JsonAttr>;

const VR: Record<string, string> = {
  '00020010': 'UI',
  '00080008': 'CS',
  '00080016': 'UI',
  '00080018': 'UI',
  '00080020': 'DA',
  '00080021': 'DA',
  '00080022': 'DA',
  '00080030': 'TM',
  '00080031': 'TM',
  '00080032': 'TM',
  '00080050': 'SH',
  '00080060': 'CS',
  '00081030': 'LO',
  '0008103E': 'LO',
  '00100010': 'PN',
  '00100020': 'LO',
  '00100030': 'DA',
  '00100040': 'CS',
  '00101010': 'AS',
  '00101020': 'DS',
  '00101030': 'DS',
  '00180050': 'DS',
  '00181063': 'DS',
  '00181072': 'TM',
  '00181074': 'DS',
  '00181075': 'DS',
  '00181078': 'DT',
  '00181242': 'IS',
  '0020000D': 'UI',
  '0020000E': 'UI',
  '00200011': 'IS',
  '00200013': 'IS',
  '00200032': 'DS',
  '00200037': 'DS',
  '00200052': 'UI',
  '00201041': 'DS',
  '00280002': 'US',
  '00280004': 'CS',
  '00280006': 'US',
  '00280008': 'IS',
  '00280010': 'US',
  '00280011': 'US',
  '00280030': 'DS',
  '00280034': 'IS',
  '00280051': 'CS',
  '00280100': 'US',
  '00280101': 'US',
  '00280102': 'US',
  '00280103': 'US',
  '00280106': 'US',
  '00280107': 'US',
  '00281050': 'DS',
  '00281051': 'DS',
  '00281052': 'DS',
  '00281053': 'DS',
  '00281054': 'LO',
  '00281056': 'CS',
  '00281101': 'US',
  '00281102': 'US',
  '00281103': 'US',
  '00281201': 'OW',
  '00281202': 'OW',
  '00281203': 'OW',
  '00540016': 'SQ',
  '00540022': 'SQ',
  '00541001': 'CS',
  '00541102': 'CS',
  '00541300': 'DS',
  '52009229': 'SQ',
  '52009230': 'SQ',
  '00209111': 'SQ',
  '00209113': 'SQ',
  '00209116': 'SQ',
  '00209157': 'UL',
  '00289110': 'SQ',
  '00289132': 'SQ',
  '00289145': 'SQ',
};

const TAGS = Object.keys(VR).map((k) => [k, parseInt(k, 16) >>> 0] as const);
const NUMERIC_STRING = new Set(['IS', 'DS']);
const BINARY: Record<string, [size: number, read: (b: Buffer, o: number) => number]> = {
  US: [2, (b, o) => b.readUInt16LE(o)],
  SS: [2, (b, o) => b.readInt16LE(o)],
  UL: [4, (b, o) => b.readUInt32LE(o)],
  SL: [4, (b, o) => b.readInt32LE(o)],
  FL: [4, (b, o) => b.readFloatLE(o)],
  FD: [8, (b, o) => b.readDoubleLE(o)],
  OW: [2, (b, o) => b.readUInt16LE(o)],
};

function attribute(ds: DicomDataSet, key: string, tag: number, pixelRepresentation: number | undefined): JsonAttr | undefined {
  const el = ds.elements.get(tag);
  if (!el) return undefined;
  // The file's own VR when explicit; the table's for implicit files (parsed as UN) — with the signedness of
  // the smallest/largest pixel values following the pixel representation.
  let vr = el.vr !== 'UN' && el.vr !== 'OB' ? el.vr : VR[key]!;
  if ((key === '00280106' || key === '00280107') && el.vr === 'UN' && pixelRepresentation === 1) vr = 'SS';
  if (vr === 'SQ') {
    const items = (el.items ?? []).map((item) => toJson(item, pixelRepresentation));
    return items.length ? { vr, Value: items } : { vr };
  }
  const bin = BINARY[vr];
  if (bin) {
    const raw = ds.raw(tag)!;
    const [size, read] = bin;
    const values: number[] = [];
    for (let o = 0; o + size <= raw.length; o += size) values.push(read(raw, o));
    return values.length ? { vr, Value: values } : { vr };
  }
  const text = ds.string(tag);
  if (text === undefined) return { vr };
  const parts = text.split('\\').map((v) => v.trim());
  if (NUMERIC_STRING.has(vr)) return { vr, Value: parts.map((v) => (v === '' ? null : Number(v))) };
  if (vr === 'PN') return { vr, Value: parts.map((v) => ({ Alphabetic: v })) };
  return { vr, Value: parts };
}

function toJson(ds: DicomDataSet, pixelRepresentation: number | undefined): DicomJson {
  const out: DicomJson = {};
  for (const [key, tag] of TAGS) {
    const a = attribute(ds, key, tag, pixelRepresentation);
    if (a) out[key] = a;
  }
  return out;
}

/** The viewer's DICOM JSON for one instance (its dataset, and the transfer syntax from its file meta). */
export function viewerMetadata(ds: DicomDataSet, transferSyntaxUid: string | undefined): DicomJson {
  const json = toJson(ds, ds.uint16(0x00280103));
  if (transferSyntaxUid && !json['00020010']) json['00020010'] = { vr: 'UI', Value: [transferSyntaxUid] };
  return json;
}
