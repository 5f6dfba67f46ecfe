/**
 * Label and document renderers of the EasyPost simulator: a 4×6 in shipping label as a real
 * (if plain) PDF 1.4, as ZPL II (`^XA` … `^XZ`) and as a PNG, and the SCAN form as a PDF.
 * Enough for a client to check what it downloaded (magic bytes, tracking number inside), not a
 * carrier-compliant label. Pure: bytes in, bytes out.
 */
import { deflateSync, crc32 } from 'node:zlib';

export interface LabelContent {
  carrier: string;
  service: string;
  trackingCode: string;
  from: string[];
  to: string[];
  /** YYYY-MM-DD */
  labelDate: string;
  weightOz: number;
}

/** Escapes text for a PDF string literal (ASCII only; anything else becomes '?'). */
function pdfText(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').replace(/([()\\])/g, '\\$1');
}

/** A one-page PDF of `lines` (top to bottom) on a page of `width` × `height` points. */
export function renderPdf(lines: string[], width = 288, height = 432): Buffer {
  const ops = ['BT', '/F1 10 Tf', '12 TL', `18 ${height - 30} Td`];
  for (const l of lines) ops.push(`(${pdfText(l)}) Tj T*`);
  ops.push('ET');
  const stream = ops.join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${width} ${height}] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function labelLines(c: LabelContent): string[] {
  return [
    `${c.carrier} ${c.service}`,
    `SHIP DATE ${c.labelDate}   WT ${(c.weightOz / 16).toFixed(2)} LB`,
    'FROM:',
    ...c.from,
    'TO:',
    ...c.to,
    `TRACKING # ${c.trackingCode}`,
  ];
}

export function renderLabelPdf(c: LabelContent): Buffer {
  return renderPdf(labelLines(c));
}

/** ZPL II for a 4×6 label at 203 dpi. */
export function renderLabelZpl(c: LabelContent): Buffer {
  const safe = (s: string) => s.replace(/[\^~]/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  const lines = ['^XA', '^CI28', '^PW812', '^LL1218'];
  let y = 40;
  for (const l of labelLines(c)) {
    lines.push(`^FO40,${y}^A0N,30,30^FD${safe(l)}^FS`);
    y += 40;
  }
  lines.push(`^FO60,${y + 20}^BY3^BCN,160,Y,N,N^FD${safe(c.trackingCode)}^FS`);
  lines.push('^XZ');
  return Buffer.from(lines.join('\n') + '\n', 'ascii');
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/**
 * A blank 1-bit PNG of 4×6 in at 50 dpi, with the label text in a tEXt chunk (EasyPost's
 * default label format is PNG).
 */
export function renderLabelPng(c: LabelContent): Buffer {
  const w = 200;
  const h = 300;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rowBytes = Math.ceil(w / 8);
  const raw = Buffer.alloc((rowBytes + 1) * h, 0xff);
  for (let r = 0; r < h; r++) raw[r * (rowBytes + 1)] = 0; // filter type none
  const text = Buffer.from(`Comment\0${labelLines(c).join(' | ').replace(/[^\x20-\x7e]/g, '?')}`, 'latin1');
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('tEXt', text),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The USPS SCAN form (PS Form 5630 stand-in) listing the tracking codes. */
export function renderScanFormPdf(id: string, date: string, from: string[], trackingCodes: string[]): Buffer {
  return renderPdf(['SCAN FORM ' + id, `DATE ${date}`, ...from, `${trackingCodes.length} PACKAGES`, ...trackingCodes], 612, 792);
}
