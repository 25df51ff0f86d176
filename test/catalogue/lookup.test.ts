// Catalogue lookups: what a flow or the editor is told about well-known paths (issue 12).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { catalogueInfo, describePath, enumName, matchesQuery, serviceTypeLabel } from '../../src/catalogue';

function label(type: string, path: string): string | undefined {
  return describePath(type, path)?.label;
}

test('the catalogue loads from the package', () => {
  const info = catalogueInfo();
  assert.equal(info.loadError, undefined);
  assert.ok(info.entries > 1000, `${info.entries} entries`);
  for (const t of ['battery', 'vebus', 'solarcharger', 'system', 'settings', 'grid', 'pvinverter', 'tank', 'temperature',
    'evcharger', 'multi', 'acsystem', 'dcdc', 'inverter', 'charger', 'genset', 'alternator']) {
    assert.ok(info.serviceTypes.includes(t), t);
  }
});

test('battery: state of charge in %, voltages of the main and the starter battery', () => {
  assert.deepEqual(
    { label: label('battery', '/Soc'), unit: describePath('battery', '/Soc')?.unit, writable: describePath('battery', '/Soc')?.writable },
    { label: 'State of charge', unit: '%', writable: undefined },
  );
  assert.equal(serviceTypeLabel('battery'), 'Battery');
  assert.equal(label('battery', '/Dc/0/Voltage'), 'Voltage');
  assert.equal(describePath('battery', '/Dc/0/Voltage')?.unit, 'V');
  assert.equal(label('battery', '/Dc/1/Voltage'), 'Starter battery voltage');
  assert.equal(describePath('battery', '/Dc/0/Temperature')?.unit, '°C');
  assert.equal(describePath('battery', '/ConsumedAmphours')?.unit, 'Ah');
  assert.equal(describePath('battery', '/TimeToGo')?.unit, 's');
  assert.equal(enumName('battery', '/Alarms/LowVoltage', 2), 'Alarm');
  assert.equal(enumName('battery', '/Alarms/LowVoltage', 0), 'OK');
  assert.equal(label('battery', '/Relay/0/State'), 'Relay 0 state');
  assert.equal(enumName('battery', '/Relay/0/State', 1), 'Closed');
});

test('vebus: state names, mode, AC input and output per phase', () => {
  assert.equal(enumName('vebus', '/State', 3), 'Bulk');
  assert.equal(enumName('vebus', '/State', 4), 'Absorption');
  assert.equal(enumName('vebus', '/State', 9), 'Inverting');
  assert.equal(enumName('vebus', '/State', 252), 'External control');
  assert.equal(enumName('vebus', '/State', 77), undefined);
  const mode = describePath('vebus', '/Mode');
  assert.equal(mode?.writable, true);
  assert.deepEqual(mode?.enumValues?.map((v) => [v.value, v.name]), [[1, 'Charger only'], [2, 'Inverter only'], [3, 'On'], [4, 'Off']]);
  assert.equal(label('vebus', '/Ac/ActiveIn/L1/P'), 'AC input L1 power');
  assert.equal(describePath('vebus', '/Ac/ActiveIn/L1/P')?.unit, 'W');
  assert.equal(label('vebus', '/Ac/Out/L3/V'), 'AC output L3 voltage');
  assert.equal(describePath('vebus', '/Ac/Out/L3/V')?.unit, 'V');
  assert.equal(label('vebus', '/Devices/4/ExtendStatus/RelayTestOk'), 'Device 4 relay test passed');
  assert.equal(enumName('vebus', '/VebusError', 17)?.startsWith('Error 17'), true);
  assert.equal(describePath('vebus', '/Hub4/L1/AcPowerSetpoint')?.writable, true);
  assert.equal(describePath('vebus', '/Energy/InverterToAcOut')?.unit, 'kWh');
});

test('solarcharger: charge state, PV power, history per day and tracker', () => {
  assert.equal(enumName('solarcharger', '/State', 3), 'Bulk');
  assert.equal(enumName('solarcharger', '/State', 5), 'Float');
  assert.equal(enumName('solarcharger', '/State', 252), 'External control');
  assert.equal(enumName('solarcharger', '/State', 1), undefined, 'a solar charger has no low-power state');
  assert.equal(label('solarcharger', '/Yield/Power'), 'PV power');
  assert.equal(describePath('solarcharger', '/Yield/Power')?.unit, 'W');
  assert.equal(label('solarcharger', '/History/Daily/0/Yield'), 'Yield today');
  assert.equal(label('solarcharger', '/History/Daily/1/Yield'), 'Yield yesterday');
  assert.equal(label('solarcharger', '/History/Daily/30/Yield'), 'Yield 30 days ago');
  assert.equal(describePath('solarcharger', '/History/Daily/30/Yield')?.unit, 'kWh');
  assert.equal(label('solarcharger', '/History/Daily/2/Pv/3/MaxPower'), 'PV 3 maximum power 2 days ago');
  assert.equal(enumName('solarcharger', '/ErrorCode', 2), 'Battery voltage too high');
  assert.equal(enumName('solarcharger', '/History/Daily/0/LastError1', 0), 'No error');
  assert.equal(enumName('solarcharger', '/MppOperationMode', 2), 'MPPT active');
});

test('system: battery summary, AC totals, system state, relays', () => {
  assert.equal(label('system', '/Dc/Battery/Power'), 'Battery power');
  assert.equal(describePath('system', '/Dc/Battery/Power')?.unit, 'W');
  assert.equal(describePath('system', '/Dc/Battery/Soc')?.unit, '%');
  assert.equal(enumName('system', '/Dc/Battery/State', 1), 'Charging');
  assert.equal(label('system', '/Ac/Grid/L2/Power'), 'Grid L2 power');
  assert.equal(label('system', '/Ac/Consumption/L1/Current'), 'AC consumption L1 current');
  assert.equal(describePath('system', '/Ac/Consumption/L1/Current')?.unit, 'A');
  assert.equal(enumName('system', '/SystemState/State', 3), 'Bulk');
  assert.equal(enumName('system', '/SystemState/State', 0x100), 'Discharging');
  assert.equal(enumName('system', '/SystemState/State', 0x101), 'Sustain');
  assert.equal(enumName('system', '/Ac/ActiveIn/Source', 240), 'Not connected');
  assert.equal(label('system', '/Relay/1/State'), 'Relay 1 state');
  assert.equal(describePath('system', '/Relay/1/State')?.writable, true);
  assert.equal(label('system', '/ServiceMapping/com_victronenergy_vebus_257'), 'Service name of com_victronenergy_vebus_257');
  assert.equal(label('system', '/Serial'), 'VRM portal ID', "a type's own entry wins over the generic one");
});

test('settings: ESS mode names, DVCC limits, per-device settings', () => {
  const hub4 = describePath('settings', '/Settings/CGwacs/Hub4Mode');
  assert.equal(hub4?.writable, true);
  assert.equal(hub4?.enum?.(1), 'ESS with phase compensation');
  assert.equal(hub4?.enum?.(2), 'ESS without phase compensation');
  assert.equal(hub4?.enum?.(3), 'ESS off / external control');
  assert.equal(enumName('settings', '/Settings/CGwacs/BatteryLife/State', 9), 'Keep batteries charged');
  assert.equal(describePath('settings', '/Settings/CGwacs/AcPowerSetPoint')?.unit, 'W');
  assert.equal(describePath('settings', '/Settings/SystemSetup/MaxChargeCurrent')?.unit, 'A');
  assert.equal(enumName('settings', '/Settings/SystemSetup/AcInput1', 2), 'Generator');
  assert.equal(label('settings', '/Settings/Devices/cgwacs_ttyUSB0_mb1/ClassAndVrmInstance'), 'Device cgwacs_ttyUSB0_mb1 class and VRM instance');
  assert.equal(label('settings', '/Settings/Generator1/Soc/StartValue'), 'Generator 1 start SoC');
  assert.equal(describePath('settings', '/Settings/Generator1/Soc/StartValue')?.writable, true);
  assert.equal(label('settings', '/Settings/DynamicEss/Schedule/12/Soc'), 'Dynamic ESS schedule 12 SoC');
});

test('grid, PV inverter, tank, temperature, EV charger, multi', () => {
  assert.equal(label('grid', '/Ac/L2/Energy/Reverse'), 'L2 energy exported');
  assert.equal(describePath('grid', '/Ac/L2/Energy/Reverse')?.unit, 'kWh');
  assert.equal(describePath('pvinverter', '/Ac/Power')?.unit, 'W', 'D-Bus carries W (the Modbus register list says kW)');
  assert.equal(enumName('pvinverter', '/Position', 1), 'AC output');
  assert.equal(describePath('tank', '/Level')?.unit, '%');
  assert.equal(enumName('tank', '/FluidType', 1), 'Fresh water');
  assert.equal(describePath('temperature', '/Temperature')?.unit, '°C');
  assert.equal(enumName('evcharger', '/Status', 2), 'Charging');
  assert.equal(label('multi', '/Ac/In/2/L1/P'), 'AC input 2 L1 power');
  assert.equal(label('acsystem', '/Ac/In/1/L3/F'), 'AC input 1 L3 frequency');
  assert.equal(describePath('acsystem', '/Ac/In/1/L3/F')?.unit, 'Hz');
  assert.equal(describePath('dcdc', '/Dc/In/P')?.unit, 'W');
});

test('paths every service has, also for a type the catalogue does not list', () => {
  assert.equal(label('switch', '/ProductName'), 'Product name');
  assert.equal(label('battery', '/Mgmt/Connection'), 'Connection');
  assert.equal(enumName('pvinverter', '/Connected', 1), 'Yes');
  assert.equal(label('switch', '/Error/2/Id'), 'Error 2 ID');
  assert.equal(serviceTypeLabel('switch'), undefined);
});

test('a D-Bus service name works like its short type', () => {
  assert.equal(describePath('com.victronenergy.battery.ttyO0', '/Soc'), describePath('battery', '/Soc'));
  assert.equal(enumName('com.victronenergy.vebus.ttyO1', '/State', 5), 'Float');
  assert.equal(serviceTypeLabel('com.victronenergy.solarcharger.ttyO2'), 'Solar charger');
});

test('unknown paths and bad arguments answer undefined, as without a catalogue', () => {
  for (const [t, p] of [['battery', '/Nope'], ['battery', '/Soc/Extra'], ['battery', '/'], ['battery', ''], ['battery', 'Soc'],
    ['battery', '/Soc/'], ['battery', '//Soc'], ['nosuchtype', '/Soc'], ['', '/Soc'], ['vebus', '/Ac/Out/LX/P'], ['vebus', '/Ac/Out/L/P'],
    ['solarcharger', '/History/Daily/x/Yield']]) {
    assert.equal(describePath(t, p), undefined, `${t} ${p}`);
  }
  assert.equal(describePath(undefined as unknown as string, '/Soc'), undefined);
  assert.equal(describePath('battery', 42 as unknown as string), undefined);
  assert.equal(enumName('battery', '/Nope', 1), undefined);
  assert.equal(enumName('battery', '/Soc', 1), undefined, '/Soc is no enumeration');
});

test('enumeration values: integers only (also 64-bit), nothing else', () => {
  assert.equal(enumName('vebus', '/State', 3n), 'Bulk');
  assert.equal(enumName('vebus', '/State', 3.0), 'Bulk');
  for (const v of [3.5, '3', null, undefined, true, NaN, Infinity, [3], { value: 3 }, 2n ** 70n]) {
    assert.equal(enumName('vebus', '/State', v), undefined, String(v));
  }
  const values = describePath('vebus', '/State')?.enumValues ?? [];
  assert.deepEqual(values.map((v) => v.value), [...values.map((v) => v.value)].sort((a, b) => a - b));
  assert.ok(values.some((v) => v.value === 3 && v.name === 'Bulk'));
});

test('items share one descriptor per type and path, and untemplated entries share across types', () => {
  const a = describePath('vebus', '/Ac/Out/L1/P');
  assert.ok(a);
  assert.equal(describePath('vebus', '/Ac/Out/L1/P'), a);
  assert.equal(describePath('com.victronenergy.vebus.ttyO1', '/Ac/Out/L1/P'), a);
  assert.notEqual(describePath('vebus', '/Ac/Out/L2/P'), a);
  assert.equal(describePath('battery', '/ProductName'), describePath('vebus', '/ProductName'));
  assert.equal(describePath('battery', '/Soc')?.enum, undefined);
  assert.equal(describePath('vebus', '/State')?.enum, describePath('multi', '/State')?.enum, 'one lookup function per enumeration');
  assert.ok(Object.isFrozen(a));
});

test('picker search: every word in the label, path, unit or service type', () => {
  assert.ok(matchesQuery('battery', '/Soc', 'state of charge'));
  assert.ok(matchesQuery('battery', '/Soc', 'Battery SOC'));
  assert.ok(matchesQuery('battery', '/Soc', '  charge   battery '));
  assert.ok(matchesQuery('vebus', '/Ac/ActiveIn/L1/P', 'input l1 power'));
  assert.ok(matchesQuery('vebus', '/Ac/ActiveIn/L1/P', '/Ac/ActiveIn'));
  assert.ok(matchesQuery('system', '/Dc/Battery/Power', 'battery w'));
  assert.ok(matchesQuery('com.victronenergy.grid.cgwacs_ttyUSB0', '/Ac/L1/Energy/Forward', 'grid imported'));
  assert.ok(!matchesQuery('battery', '/Soc', 'grid'));
  assert.ok(!matchesQuery('battery', '/Soc', 'state of discharge'));
  assert.ok(matchesQuery('battery', '/Soc', ''));
  assert.ok(matchesQuery('battery', '/Some/Unknown', 'unknown'), 'an unknown path matches on its path');
  assert.ok(matchesQuery('battery', '/Some/Unknown', 'battery'));
  assert.ok(!matchesQuery('battery', '/Some/Unknown', 'voltage'));
  assert.ok(!matchesQuery('battery', '/Soc', undefined as unknown as string));
});
