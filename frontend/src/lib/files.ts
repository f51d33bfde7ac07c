export const MAX_PHOTO_BYTES = 2 * 1024 * 1024;
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png']);

/** Client-side check before upload (the server checks the content again). */
export function photoProblem(file: { type: string; size: number }): string | null {
  if (!PHOTO_TYPES.has(file.type)) return 'Choose a JPEG or PNG image.';
  if (file.size > MAX_PHOTO_BYTES) return 'The photo must be 2 MB or smaller.';
  return null;
}

/** Backup codes as a text file body. */
export function backupCodesText(codes: string[], email: string | null): string {
  return [
    email ? `CareConnect backup codes for ${email}` : 'CareConnect backup codes',
    'Each code works once. Keep them somewhere safe.',
    '',
    ...codes,
    '',
  ].join('\n');
}
