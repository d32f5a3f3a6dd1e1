/** Window/level presets (width/center in HU for CT; MR has no absolute scale: relative to the image's own window). */
export interface VoiPreset {
  id: string;
  label: string;
  /** Absolute (CT, HU) or relative to the image default (MR): width factor and center shift in widths. */
  width: number;
  center: number;
  relative?: boolean;
}

export const CT_PRESETS: VoiPreset[] = [
  { id: 'soft', label: 'Parties molles', width: 400, center: 40 },
  { id: 'lung', label: 'Poumon', width: 1500, center: -600 },
  { id: 'bone', label: 'Os', width: 2000, center: 300 },
  { id: 'brain', label: 'Cerveau', width: 80, center: 40 },
  { id: 'abdomen', label: 'Abdomen', width: 350, center: 50 },
  { id: 'liver', label: 'Foie', width: 150, center: 30 },
];

export const MR_PRESETS: VoiPreset[] = [
  { id: 'default', label: 'Fenêtre de l’image', width: 1, center: 0, relative: true },
  { id: 'high', label: 'Contraste élevé', width: 0.5, center: 0, relative: true },
  { id: 'low', label: 'Contraste doux', width: 2, center: 0, relative: true },
  { id: 'bright', label: 'Plus clair', width: 1, center: -0.25, relative: true },
];

export function presetsFor(modality: string | undefined): VoiPreset[] {
  if (modality === 'CT') return CT_PRESETS;
  if (modality === 'MR') return MR_PRESETS;
  return MR_PRESETS;
}

export function applyPreset(p: VoiPreset, imageDefault: { windowWidth: number; windowCenter: number }): { windowWidth: number; windowCenter: number } {
  if (!p.relative) return { windowWidth: p.width, windowCenter: p.center };
  const w = Math.max(1, imageDefault.windowWidth * p.width);
  return { windowWidth: w, windowCenter: imageDefault.windowCenter + p.center * imageDefault.windowWidth };
}
