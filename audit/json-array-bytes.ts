/**
 * `[row,row,…]` as UTF-8 bytes, written row by row into one buffer. The batch is about a megabyte:
 * joining the rows into one string and letting the driver measure and encode it copied it three
 * times (join, flatten, encode), which cost more than hashing the events. PostgreSQL's binary form
 * of `json` is its text, so the bytes go as they are (where the driver passes a Buffer through:
 * probed once at open).
 */
export function jsonArrayBytes(rows: readonly string[]): Buffer {
  let size = 1 + Math.max(1, rows.length);
  for (const row of rows) size += Buffer.byteLength(row, 'utf8');
  const bytes = Buffer.allocUnsafe(size);
  let at = bytes.write('[', 0, 'latin1');
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) at += bytes.write(',', at, 'latin1');
    at += bytes.write(rows[i]!, at, 'utf8');
  }
  at += bytes.write(']', at, 'latin1');
  return at === size ? bytes : bytes.subarray(0, at);
}
