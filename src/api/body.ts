/** Request bodies: media types and strict JSON decoding (UTF-8, no silent repair). */
import { ValidationError } from '../domain/errors.ts';

export interface ContentType {
  /** lower-case type/subtype without parameters */
  mediaType: string;
  charset: string | undefined;
}

const TOKEN = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

/** Parses a Content-Type header; undefined when it is absent or malformed. */
export function parseContentType(header: string | undefined): ContentType | undefined {
  if (!header) return undefined;
  const [type, ...params] = header.split(';');
  const mediaType = type!.trim().toLowerCase();
  if (!TOKEN.test(mediaType)) return undefined;
  let charset: string | undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'charset') charset = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return { mediaType, charset };
}

/** application/json or application/<anything>+json (what the CloudEvents envelope allows as datacontenttype) */
export function isJsonMediaType(mediaType: string): boolean {
  return /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/.test(mediaType);
}

/** JSON is UTF-8 (RFC 8259); a declared charset must say so. */
export function isUtf8(ct: ContentType): boolean {
  return ct.charset === undefined || ct.charset === 'utf-8' || ct.charset === 'utf8';
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes a JSON body. Invalid UTF-8 and invalid JSON are `request.malformed_json`;
 * an empty body is undefined when `allowEmpty`, else malformed too.
 */
export function decodeJsonBody(raw: Buffer, allowEmpty: boolean): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ValidationError('request.malformed_json', 'the body is not valid UTF-8');
  }
  if (text.trim() === '') {
    if (allowEmpty) return undefined;
    throw new ValidationError('request.malformed_json', 'the body is empty');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    // V8's message quotes the body: keep only the position
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new ValidationError('request.malformed_json', `the body is not valid JSON${at === undefined ? '' : ` (error at character ${at})`}`);
  }
}
