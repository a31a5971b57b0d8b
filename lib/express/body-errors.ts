// The one place body-parser's failures (it tags them with `type`) become invalid_request errors with a fitting HTTP status.
import { InvalidRequestError, type OAuthError } from '../core/model/errors';

/**
 * Maps a body-parser failure to `invalid_request`: 413 for a body or parameter count over the limit,
 * 415 for an unsupported charset or encoding, 400 with `malformed` for anything else it reports.
 * Returns undefined for an error body-parser did not raise.
 */
export function bodyParserError(err: unknown, malformed = 'the request body is malformed'): OAuthError | undefined {
  switch ((err as { type?: unknown } | null)?.type) {
    case 'entity.too.large':
      return new InvalidRequestError('the request body is too large', { status: 413, cause: err });
    case 'parameters.too.many':
      return new InvalidRequestError('the request body has too many parameters', { status: 413, cause: err });
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new InvalidRequestError('the request body encoding is not supported', { status: 415, cause: err });
    case 'entity.parse.failed':
    case 'entity.verify.failed':
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return new InvalidRequestError(malformed, { cause: err });
    default:
      return undefined;
  }
}
