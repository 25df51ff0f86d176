// GX simulator: Victron com.victronenergy.* services on any D-Bus, behaving like Venus OS
// services built with velib_python (VeDbusService / VeDbusItemExport).
export { GxSimulator, loadFile } from './simulator';
export type { SimulatorOptions } from './simulator';
export { SimService, BUSITEM, openBus, isValidObjectPath } from './service';
export type { WriteRecord, SetValueOptions, ReplayOptions } from './service';
export { loadRecording, parseRecording, recorderValue } from './recording';
export { loadScenario, parseScenario } from './scenario';
export { syntheticSystem, ChangeGenerator } from './synthetic';
export type { SyntheticOptions, ChangeOptions, ChangeBatch, ChangeStats } from './synthetic';
export { DEFAULT_OPTIONS } from './types';
export type { ServiceDef, PathDef, ServiceOptions, SignalMode, ScriptedChange } from './types';
export {
  Variant, invalid, isInvalid, isEmptyArray, inferVariant, coerceForSet, valuesEqual, defaultText, formatText,
} from './values';
