// Public entry point of the package for programmatic use (the Node-RED nodes load their own files).
// The path catalogue: labels, units and value names of well-known GX D-Bus paths.
export { describePath, enumName, matchesQuery, serviceTypeLabel, catalogueInfo } from './catalogue';
export type { PathDescriptor, EnumValue, CatalogueInfo } from './catalogue';
