export * from './clock.js';
export * from './decision-log.js';
export * from './errors.js';
export * from './fleet-provider.js';
export * from './forecast-source.js';
export * from './interruption-source.js';
export * from './metrics-source.js';
export * from './worker-control.js';
