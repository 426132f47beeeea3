/**
 * A photo as the tablet keeps it: downscaled to at most 2000 px on the long edge (a 108-megapixel camera's 30 MB
 * shot becomes a few hundred kB the hub can take), JPEG, named by its SHA-256. The original is kept when the checklist
 * asks for it (an item with `original: true` in its parameters) or when it is already small enough.
 */

import { sha256Hex } from './clock.js';

export const LONG_EDGE = 2000;
const QUALITY = 0.85;
const PICTURES = ['image/jpeg', 'image/png', 'image/webp'];

export class PhotoError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

/** {sha256, blob, type, width, height, size, taken_at} of a chosen file; PhotoError when it is not a picture. */
export async function preparePhoto(file, { keepOriginal = false, maxBytes = 25 * 1024 * 1024 } = {}) {
  if (!file || !file.size) throw new PhotoError('photo.empty');
  if (!PICTURES.includes(file.type) && !/\.(jpe?g|png|webp)$/i.test(file.name || '')) {
    throw new PhotoError('photo.not_a_picture');
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch (error) {
    throw new PhotoError('photo.unreadable');
  }
  const { width, height } = bitmap;
  let blob = file;
  let shape = { width, height };
  if (!keepOriginal && Math.max(width, height) > LONG_EDGE) {
    const scale = LONG_EDGE / Math.max(width, height);
    shape = { width: Math.round(width * scale), height: Math.round(height * scale) };
    blob = await encode(bitmap, shape);
  } else if (!PICTURES.includes(file.type)) {
    blob = await encode(bitmap, shape);
  }
  bitmap.close();
  if (blob.size > maxBytes) throw new PhotoError('photo.too_large');
  const bytes = await blob.arrayBuffer();
  const type = blob.type || 'image/jpeg';
  return { sha256: await sha256Hex(bytes), blob: new Blob([bytes], { type }), type, ...shape, size: bytes.byteLength,
    taken_at: file.lastModified ? new Date(file.lastModified).toISOString() : new Date().toISOString() };
}

async function encode(bitmap, { width, height }) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
  if (!blob) throw new PhotoError('photo.unreadable');
  return blob;
}

/** The extension a photo travels under in a bundle (sync/bundle.py PHOTO_NAME). */
export function extension(type) {
  return { 'image/png': 'png', 'image/webp': 'webp' }[type] || 'jpg';
}
