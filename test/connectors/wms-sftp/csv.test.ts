/**
 * The RFC 4180 CSV parser and writer of the SFTP warehouse connector: the 3PL's files as
 * they come (CRLF, LF, a byte order mark, quoted fields with commas, quotes and line
 * breaks), round trips written then parsed (fast-check), and every syntax problem reported
 * with the file, the line and the column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { CsvError, parseCsv, writeCsv } from '../../../src/connectors/wms-sftp/csv.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/wms-sftp/${name}`, import.meta.url));

function csvError(fn: () => unknown): CsvError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CsvError, String(e));
    assert.equal(e.code, 'wms-sftp.csv_invalid');
    assert.equal(e.errorClass, 'business');
    return e;
  }
  assert.fail('expected a CsvError');
}

test('a 3PL acknowledgement file: header, CRLF records, a quoted field with doubled quotes', () => {
  const doc = parseCsv(fixture('ACK_20260302090100_000001_shp-1001.csv'), 'ACK_1.csv');
  assert.deepEqual(doc.header, ['order_ref', 'client_order', 'wms_order_id', 'status', 'reason', 'event_time']);
  assert.equal(doc.records.length, 2);
  assert.equal(doc.records[1]!.values.reason, 'unknown SKU "SKU-X"');
  assert.equal(doc.records[1]!.line, 3);
  assert.deepEqual(doc.records[1]!.positions[4], { line: 3, column: 39 });
  assert.equal(doc.records[0]!.values.reason, '');
});

test('a stock snapshot with a byte order mark and LF line ends', () => {
  const doc = parseCsv(fixture('STK_20260302092100.csv'), 'STK.csv');
  assert.equal(doc.header[0], 'sku');
  assert.deepEqual(doc.records.map((r) => [r.values.sku, r.values.description]), [['SKU-BLUE', 'blue item'], ['SKU-RED', 'red item, large']]);
  assert.deepEqual(doc.records[0]!.positions[0], { line: 2, column: 1 });
});

test('quoted line breaks count as lines; blank lines are skipped; a quoted empty field is a record', () => {
  const doc = parseCsv('a,b\r\n"1\r\nx","2\ny"\r\n\r\n3,4\n', 'f.csv');
  assert.deepEqual(doc.records.map((r) => r.cells), [['1\r\nx', '2\ny'], ['3', '4']]);
  assert.deepEqual(doc.records.map((r) => r.line), [2, 6]);
  assert.deepEqual(doc.records[0]!.positions[1], { line: 3, column: 4 });
  const one = parseCsv('a\n""\n', 'one.csv');
  assert.deepEqual(one.records.map((r) => r.cells), [['']]);
  assert.deepEqual(parseCsv('a;b\n"x;y";2', 'semi.csv', { delimiter: ';' }).records[0]!.cells, ['x;y', '2']);
});

test('syntax problems name the file, the line and the column', () => {
  const unclosed = csvError(() => parseCsv(fixture('bad-unclosed-quote.csv'), 'bad-unclosed-quote.csv'));
  assert.deepEqual([unclosed.file, unclosed.line, unclosed.column], ['bad-unclosed-quote.csv', 2, 39]);
  assert.match(unclosed.message, /^bad-unclosed-quote\.csv:2:39: the quoted field that starts here is never closed/);

  const after = csvError(() => parseCsv(fixture('bad-after-quote.csv'), 'bad-after-quote.csv'));
  assert.deepEqual([after.line, after.column], [2, 6]);
  assert.match(after.message, /unexpected "y" after the closing quote/);

  const short = csvError(() => parseCsv(fixture('bad-short-row.csv'), 'bad-short-row.csv'));
  assert.deepEqual([short.line, short.column], [2, 4]);
  assert.match(short.message, /2 fields; the header has 3 \(c missing\)/);

  const long = csvError(() => parseCsv('a,b\n1,2,3\n', 'long.csv'));
  assert.deepEqual([long.line, long.column], [2, 5]);

  const stray = csvError(() => parseCsv('a,b\n1,x"y\n', 'stray.csv'));
  assert.deepEqual([stray.line, stray.column], [2, 4]);
  assert.match(stray.message, /a quote inside a field/);

  assert.deepEqual([csvError(() => parseCsv('', 'empty.csv')).line, csvError(() => parseCsv('\uFEFF\r\n', 'empty.csv')).line], [1, 1]);
  const dup = csvError(() => parseCsv('a,b,a\n', 'dup.csv'));
  assert.deepEqual([dup.line, dup.column], [1, 5]);
  const noName = csvError(() => parseCsv('a,,c\n', 'noname.csv'));
  assert.deepEqual([noName.line, noName.column], [1, 3]);
  const utf8 = csvError(() => parseCsv(Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xff]), Buffer.from('\n')]), 'latin.csv'));
  assert.deepEqual([utf8.line, utf8.column], [2, 3]);
  assert.match(utf8.message, /not valid UTF-8/);
});

test('the writer quotes what needs quoting, uses CRLF by default and refuses what is not a cell', () => {
  assert.equal(writeCsv(['a', 'b'], [{ a: 'x,y', b: 'say "hi"' }, { a: 1.5, b: true }, { a: null }]), 'a,b\r\n"x,y","say ""hi"""\r\n1.5,true\r\n,\r\n');
  assert.equal(writeCsv(['a'], [[''], ['line\nbreak']], { lineEnding: '\n', bom: true }), '\uFEFFa\n""\n"line\nbreak"\n');
  assert.throws(() => writeCsv(['a'], [{ a: { nested: 1 } }]), /row 1, column a: a object cannot be written/);
  assert.throws(() => writeCsv(['a'], [{ a: 1, b: 2 }]), /members that are not columns: b/);
  assert.throws(() => writeCsv(['a'], [{ a: Number.NaN }]), /NaN cannot be written/);
  assert.throws(() => writeCsv([], []), /at least one column/);
});

const cell = fc.oneof(fc.string(), fc.constantFrom('', ',', '"', '""', '\r\n', '\n', '\r', ' x ', '\uFEFFbom', 'a"b,c\nd'), fc.string({ unit: 'grapheme' }));
const headerName = fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom('order_ref', 'a,b', 'say "x"', 'x\ny', '__proto__', '0')).filter((h) => h.trim() !== '');

test('property: whatever rows are written, parsing gives them back (any line ending, BOM or not)', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(headerName, { minLength: 1, maxLength: 6 }),
      fc.array(fc.array(cell, { minLength: 6, maxLength: 6 }), { maxLength: 8 }),
      fc.constantFrom('\r\n' as const, '\n' as const),
      fc.boolean(),
      fc.constantFrom(',', ';', '\t', '|'),
      (header, raw, lineEnding, bom, delimiter) => {
        const rows = raw.map((r) => r.slice(0, header.length));
        const text = writeCsv(header, rows, { lineEnding, bom, delimiter });
        const doc = parseCsv(Buffer.from(text, 'utf8'), 'prop.csv', { delimiter });
        assert.deepEqual(doc.header, header);
        assert.deepEqual(doc.records.map((r) => r.cells), rows);
        doc.records.forEach((r) => assert.deepEqual(header.map((h) => r.values[h]), r.cells));
      },
    ),
    { numRuns: 400 },
  );
});

test('property: any text either parses or fails with a CsvError at a position inside the text', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\r', '\n', ' ', '\uFEFF') }), (text) => {
      try {
        const doc = parseCsv(text, 'any.csv');
        for (const r of doc.records) assert.equal(r.cells.length, doc.header.length);
      } catch (e) {
        assert.ok(e instanceof CsvError, String(e));
        const lines = text.split(/\r\n|\r|\n/).length;
        assert.ok(e.line >= 1 && e.line <= lines, `line ${e.line} of ${lines}`);
        assert.ok(e.column >= 1);
      }
    }),
    { numRuns: 500 },
  );
});
