// The catalogue of well-known GX D-Bus paths: labels, units, enumeration names (issue 12).
// Data: catalogue.json beside this file, read on first use; sources and licences: SOURCES.md.
export { describePath, enumName, serviceTypeLabel, catalogueInfo, catalogueStats, shortType, MEMO_LIMIT } from './lookup';
export type { CatalogueInfo, CatalogueStats } from './lookup';
export { matchesQuery } from './query';
export type { PathDescriptor, EnumValue } from './descriptor';
export { UNITS } from './catalogue-data';
