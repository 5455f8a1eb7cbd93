/** The shared WS-Management layer: constants, envelope writer, XML reader, action builders and parsers. */
export * from './actions/command.ts';
export * from './actions/enumerate.ts';
export * from './actions/identify.ts';
export * from './actions/invoke.ts';
export * from './actions/receive.ts';
export * from './actions/send.ts';
export * from './actions/shell.ts';
export * from './actions/signal.ts';
export * from './actions/transfer.ts';
export * from './constants.ts';
export * from './envelope.ts';
export * from './faults.ts';
export * from './reply.ts';
export * from './request.ts';
export * from './resource.ts';
export * from './response.ts';
export { DEFAULT_MAX_RESPONSE_BYTES, parseXml } from './xml.ts';
