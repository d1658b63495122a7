// Dates of the auditors' filters are city days (+08:00); "to" is inclusive for the user, so it is
// sent as the start of the next day (the API's `to` is exclusive).
export function cityDayStart(day) {
  return /^\d{4}-\d{2}-\d{2}$/.test(day ?? '') ? `${day}T00:00:00+08:00` : undefined;
}

export function cityDayAfter(day) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day ?? '')) return undefined;
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return `${next.toISOString().slice(0, 10)}T00:00:00+08:00`;
}

/** Today in the city, as YYYY-MM-DD, `offset` days away. */
export function cityDay(offset = 0) {
  return new Date(Date.now() + 8 * 3_600_000 + offset * 86_400_000).toISOString().slice(0, 10);
}

/** The API filter for the URL's params. */
export function auditFilterOf(params) {
  const filter = {
    from: cityDayStart(params.get('from')),
    to: cityDayAfter(params.get('to')),
    actor: params.get('actor') || undefined,
    org: params.get('org') || undefined,
    purpose: params.get('purpose') || undefined,
    decision: params.get('decision') || undefined,
    subjectIdNumber: params.get('subject') || undefined,
  };
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
}
