/** SMQ error codes with the HTTP status and message the real service uses (spec §2.4, §8). */
export const MNS_ERRORS = {
  MessageNotExist: [404, 'Message not exist.'],
  QueueNotExist: [404, 'The queue name you provided is not exist.'],
  QueueAlreadyExist: [409, 'The queue you want to create is already exist.'],
  InvalidQueueName: [400, 'The queue name you provided is invalid.'],
  QueueNameLengthError: [400, 'The length of queue name should be between 1 and 120.'],
  ReceiptHandleError: [400, 'The receipt handle you provide is not valid.'],
  MissingReceiptHandle: [400, 'ReceiptHandle is required.'],
  MissingVisibilityTimeout: [400, 'VisibilityTimeout is required.'],
  InvalidArgument: [400, 'The argument you provided is invalid.'],
  MalformedXML: [400, 'The XML you provided was not well-formed.'],
  InvalidRequestURL: [400, 'The request url you provided is invalid.'],
  InvalidQueryString: [400, 'The query string you provided is invalid.'],
  MissingAuthorizationHeader: [400, 'Authorization header is required.'],
  InvalidAuthorizationHeader: [400, 'The Authorization header format is invalid.'],
  MissingDateHeader: [400, 'Date header is required.'],
  InvalidDateHeader: [400, 'The Date header format is invalid.'],
  MissingVersionHeader: [400, 'x-mns-version header is required.'],
  TimeExpired: [408, 'The http request you sent is expired.'],
  InvalidAccessKeyId: [403, 'The access Id you provided is not exist.'],
  SignatureDoesNotMatch: [
    403,
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  ],
  AccessDenied: [403, 'The OwnerId that your Access Key Id associated to is forbidden for this operation.'],
  InvalidSecurityToken: [403, 'The security token you provided is invalid.'],
  SecurityTokenExpired: [403, 'The security token you provided has expired.'],
  TooManyRequests: [429, 'Too many requests, please slow down and try again later.'],
  InternalError: [500, 'The service is unavailable temporarily, please try again later.'],
} as const satisfies Record<string, readonly [number, string]>;

export type MnsErrorCode = keyof typeof MNS_ERRORS;

/** Raised inside request handling; the server turns it into an `<Error>` reply. */
export class MnsFailure extends Error {
  readonly status: number;
  constructor(
    readonly errorCode: MnsErrorCode,
    message?: string,
  ) {
    const [status, defaultMessage] = MNS_ERRORS[errorCode];
    super(message ?? defaultMessage);
    this.status = status;
  }
}

export function fail(code: MnsErrorCode, message?: string): never {
  throw new MnsFailure(code, message);
}
