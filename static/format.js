// Formatting for people: sizes and times on the document list and in the
// editor. Pure functions: tested under node.

const numbers = new Intl.NumberFormat('en');
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/**
 * "1,234 characters", or "—" when the size is unknown (null).
 * @param {number|null|undefined} n code points
 * @returns {string}
 */
export function formatSize(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return `${numbers.format(n)} ${n === 1 ? 'character' : 'characters'}`;
}

const UNITS = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/**
 * How long ago date was, e.g. "just now", "5 minutes ago", "yesterday".
 * @param {Date} date
 * @param {Date} [now]
 * @returns {string}
 */
export function formatAgo(date, now = new Date()) {
  const s = Math.round((now.getTime() - date.getTime()) / 1000);
  if (s < 45) return 'just now';
  for (const [unit, secs] of UNITS) {
    if (s >= secs) return relative.format(-Math.floor(s / secs), unit);
  }
  return relative.format(-1, 'minute');
}

/**
 * "Version 12".
 * @param {number} v
 * @returns {string}
 */
export function formatVersion(v) {
  return `Version ${numbers.format(v)}`;
}
