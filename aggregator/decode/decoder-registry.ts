import type { Decoder } from './decoder.js';
import { createJsonDecoder, type DecoderSpec } from './json-decoder.js';

/** Builds a decoder for one pipeline from its spec. */
export type DecoderFactory = (spec: DecoderSpec) => Decoder;

/** A pipeline names a record format that no decoder is registered for. */
export class UnknownDecoderFormatError extends Error {
  readonly code = 'DECODER_FORMAT_UNKNOWN';
  readonly retryable = false;
  constructor(
    readonly format: string,
    known: readonly string[],
  ) {
    super(`record format "${format}" has no decoder; use one of: ${known.join(', ')}`);
    this.name = 'UnknownDecoderFormatError';
  }
}

/**
 * Decoders by format name. Callers ask for `create(format, spec)`; adding a format (Avro,
 * Protobuf…) is one `register` call, with no change to callers.
 */
export class DecoderRegistry {
  private readonly factories = new Map<string, DecoderFactory>();

  /** Registers (or replaces) the factory for `format`. */
  register(format: string, factory: DecoderFactory): this {
    this.factories.set(format, factory);
    return this;
  }

  /** Builds a decoder; throws {@link UnknownDecoderFormatError} for an unregistered format. */
  create(format: string, spec: DecoderSpec): Decoder {
    const factory = this.factories.get(format);
    if (!factory) throw new UnknownDecoderFormatError(format, this.formats());
    return factory(spec);
  }

  /** Registered format names, sorted (for config validation messages). */
  formats(): string[] {
    return [...this.factories.keys()].sort();
  }
}

/** The registry with the built-in formats (`json`). */
export function defaultDecoderRegistry(): DecoderRegistry {
  return new DecoderRegistry().register('json', createJsonDecoder);
}

/** Format names built in; a pipeline schema can use this for `z.enum`. */
export const BUILT_IN_DECODER_FORMATS = ['json'] as const;
