/** Timestamp formatting shared by the ORM modules. */

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) from epoch microseconds, as PostgreSQL stores timestamps. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(((micros % 1_000_000) + 1_000_000) % 1_000_000, 6)}`;
}
